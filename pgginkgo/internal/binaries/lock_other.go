//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package binaries

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// staleLock is how old a lock file may get before it is presumed left by a
// crashed process. An extraction takes seconds to a minute.
const staleLock = 10 * time.Minute

// lockFile is the fallback for systems without flock (Windows among them):
// the lock is the existence of path, created exclusively. Unlike flock it
// survives a crash, hence the staleness rule.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	delay := 5 * time.Millisecond
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("creating lock file: %w", err)
		}
		if st, err := os.Stat(path); err == nil && time.Since(st.ModTime()) > staleLock {
			os.Remove(path)
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the lock %s held by another process (delete it if no pgginkgo process is running): %w", path, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}
