//go:build !windows

package flock

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestTryIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	first, err := Try(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Try(path, false); err != ErrBusy {
		t.Fatalf("second lock: %v, want ErrBusy", err)
	}
	if _, err := Try(path, true); err != ErrBusy {
		t.Fatalf("a shared lock beside an exclusive one: %v, want ErrBusy", err)
	}
	first.Release()
	again, err := Try(path, false)
	if err != nil {
		t.Fatal(err)
	}
	again.Release()
}

func TestWaitEndsWithItsContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	held, err := Try(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	waited := false
	if _, err := Wait(ctx, path, func() { waited = true }); err != context.DeadlineExceeded {
		t.Fatalf("Wait on a held lock = %v, want the context's deadline", err)
	}
	if !waited {
		t.Fatal("Wait did not report that it waited")
	}
}
