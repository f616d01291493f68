//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package binaries

import (
	"context"
	"fmt"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
)

// lockFile takes an exclusive flock on path, waiting until ctx is done. The
// kernel releases a flock when its holder dies, so a crashed extraction never
// leaves the cache locked. flock locks belong to the open file description,
// so two goroutines of one process exclude each other too. The file itself
// stays: deleting a lock file while others wait on it splits them into two
// groups that each think they hold the lock.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	l, err := flock.Wait(ctx, path, nil)
	switch {
	case err == nil:
		return l.Release, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("waiting for the lock %s held by another process: %w", path, err)
	default:
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
}
