//go:build windows

package image

import (
	"context"
	"errors"
)

// Lock is a held lock; images are not supported on Windows.
type Lock struct{}

// Release is a no-op.
func (l *Lock) Release() {}

var errBusy = errors.New("held by another process")

var errNoLocks = errors.New("image locks are not supported on Windows")

func tryLock(path string, shared bool) (*Lock, error) { return nil, errNoLocks }

func waitLock(ctx context.Context, path string, onWait func()) (*Lock, error) {
	return nil, errNoLocks
}
