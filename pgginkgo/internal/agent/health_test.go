//go:build !windows

package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
)

func TestCheckClusterTellsAliveFromExitedFromGone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c-test")
	must(t, os.Mkdir(dir, 0o700))
	lock, err := flock.Try(filepath.Join(dir, "lock"), false)
	must(t, err)

	if err := CheckCluster(dir); err != nil {
		t.Fatalf("a cluster whose agent holds the lock: %v, want nil", err)
	}

	e := Exit{PostgresPID: 4242, Status: "killed by SIGKILL", Signal: "SIGKILL", ExitCode: -1, Time: time.Now(),
		Log: filepath.Join(dir, "postgres.log"), LogTail: []string{"LOG:  database system is ready to accept connections"}}
	must(t, writeExited(dir, e))
	err = CheckCluster(dir)
	if !errors.Is(err, ErrServerExited) {
		t.Fatalf("after exited.json: %v, want ErrServerExited", err)
	}
	for _, want := range []string{"the PostgreSQL server of this suite exited unexpectedly (killed by SIGKILL, pid 4242", "ends with:\n    LOG:  database system is ready"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if !strings.HasPrefix(err.Error(), "the PostgreSQL server of this suite exited unexpectedly") {
		t.Errorf("error %q has the wrong start", err)
	}
	must(t, os.Remove(filepath.Join(dir, ExitedFile)))

	lock.Release() // what the kernel does when the agent dies
	if err := CheckCluster(dir); !errors.Is(err, ErrHelperGone) || !strings.Contains(err.Error(), "was killed") {
		t.Errorf("a cluster whose agent is dead: %v, want ErrHelperGone saying it was killed", err)
	}
	// The check itself must not leave the lock held.
	again, err := flock.Try(filepath.Join(dir, "lock"), false)
	must(t, err)
	again.Release()

	must(t, os.RemoveAll(dir))
	if err := CheckCluster(dir); !errors.Is(err, ErrHelperGone) || !strings.Contains(err.Error(), "removed") {
		t.Errorf("a removed cluster: %v, want ErrHelperGone saying it was removed", err)
	}
	if err := CheckCluster(t.TempDir()); err != nil {
		t.Errorf("a directory that is no cluster: %v, want nil", err)
	}
}

// BenchmarkCheckCluster measures the check that runs before every spec.
func BenchmarkCheckCluster(b *testing.B) {
	dir := b.TempDir()
	lock, err := flock.Try(filepath.Join(dir, "lock"), false)
	if err != nil {
		b.Fatal(err)
	}
	defer lock.Release()
	for b.Loop() {
		if err := CheckCluster(dir); err != nil {
			b.Fatal(err)
		}
	}
}
