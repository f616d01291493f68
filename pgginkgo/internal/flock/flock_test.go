//go:build !windows

package flock

import (
	"context"
	"errors"
	"os"
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

func TestRetryWaitsOutAnInstantHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	probe, err := Try(path, false)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		probe.Release()
	}()
	l, err := Retry(path, true, 5*time.Second)
	if err != nil {
		t.Fatalf("Retry past a lock held for 20ms: %v", err)
	}
	l.Release()

	held, err := Try(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	began := time.Now()
	if _, err := Retry(path, false, 30*time.Millisecond); err != ErrBusy {
		t.Fatalf("Retry on a lock that stays held = %v, want ErrBusy", err)
	}
	if waited := time.Since(began); waited < 30*time.Millisecond {
		t.Fatalf("Retry gave up after %s, before its 30ms", waited)
	}
}

func TestHeldTellsAnExclusiveHolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lock")
	if _, err := Held(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Held on a missing file = %v, want os.ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Held created the lock file")
	}
	l, err := Try(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if held, err := Held(path); !held || err != nil {
		t.Fatalf("Held while locked = %v, %v; want true", held, err)
	}
	l.Release()
	if held, err := Held(path); held || err != nil {
		t.Fatalf("Held once released = %v, %v; want false", held, err)
	}
	// The probe's shared lock is gone when Held returns.
	again, err := Try(path, false)
	if err != nil {
		t.Fatalf("an exclusive lock after Held: %v", err)
	}
	again.Release()
}
