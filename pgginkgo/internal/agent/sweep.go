//go:build !windows

package agent

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
)

// sweep removes clusters whose agent is gone. A live agent holds the flock on
// its cluster's lock file for its whole life, and the kernel releases it
// however the agent dies, so a lock we can take marks a dead cluster. This is
// immune to PID reuse, unlike checking PIDs.
func sweep(base string, o *out) int {
	entries, err := os.ReadDir(base)
	if err != nil {
		return 0
	}
	removed := 0
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "c-") {
			continue
		}
		dir := filepath.Join(base, e.Name())
		lockPath := filepath.Join(dir, "lock")
		if _, err := os.Stat(lockPath); errors.Is(err, os.ErrNotExist) {
			// An agent creates the directory, then the lock: give a young
			// directory the benefit of the doubt.
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) < time.Minute {
				continue
			}
		}
		lock, err := flock.Try(lockPath, false)
		if err != nil {
			continue // alive, or not ours to judge
		}
		// An agent writes owner.json only once it holds the lock: a young
		// directory without it may belong to an agent between creating
		// the lock file and locking it.
		if _, err := os.Stat(filepath.Join(dir, "owner.json")); errors.Is(err, os.ErrNotExist) {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) < time.Minute {
				lock.Release()
				continue
			}
		}
		pid := killStalePostmaster(filepath.Join(dir, "data"))
		// Before the directory goes: postmaster.pid says which System V
		// segment is the dead postmaster's.
		ipc := releaseIPC(filepath.Join(dir, "data"), time.Second)
		err = os.RemoveAll(dir)
		lock.Release()
		attrs := map[string]any{"dir": dir}
		if pid != 0 {
			attrs["postmasterPid"] = pid
		}
		if len(ipc) > 0 {
			attrs["sharedMemory"] = ipc
		}
		if err != nil {
			attrs["error"] = err.Error()
			o.log("WARN", "could not remove stale cluster", attrs)
			continue
		}
		removed++
		o.log("INFO", "removed stale cluster left by a dead run", attrs)
	}
	return removed
}

// killStalePostmaster ends a postmaster that still runs on dataDir and
// returns its PID, or 0 when none was running.
func killStalePostmaster(dataDir string) int {
	f, err := os.Open(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(f)
	var lines []string
	for sc.Scan() && len(lines) < 2 {
		lines = append(lines, sc.Text())
	}
	f.Close()
	if len(lines) < 2 {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 1 {
		return 0
	}
	if !isPostmasterOf(pid, dataDir) {
		return 0
	}
	// Immediate shutdown: nothing in a dead run's cluster is worth saving.
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return pid
}

// isPostmasterOf guards against PID reuse: the PID must be alive and, where
// /proc exists, run with -D dataDir on its command line.
func isPostmasterOf(pid int, dataDir string) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		// No /proc (macOS): the lock already proved the run is dead and the
		// PID file belongs to its data directory.
		return !errors.Is(err, os.ErrNotExist) || runtimeHasNoProc()
	}
	args := strings.Split(string(cmdline), "\x00")
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-D" && args[i+1] == dataDir {
			return true
		}
	}
	return false
}

func runtimeHasNoProc() bool {
	_, err := os.Stat("/proc/self")
	return err != nil
}
