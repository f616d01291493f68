//go:build windows

package flock

import (
	"context"
	"errors"
	"time"
)

// Lock is a held lock; file locks are not supported on Windows.
type Lock struct{}

// Release is a no-op.
func (l *Lock) Release() {}

// ErrBusy means another live process holds the lock.
var ErrBusy = errors.New("held by another process")

var errNoLocks = errors.New("file locks are not supported on Windows")

// Try always fails on Windows.
func Try(path string, shared bool) (*Lock, error) { return nil, errNoLocks }

// Wait always fails on Windows.
func Wait(ctx context.Context, path string, onWait func()) (*Lock, error) {
	return nil, errNoLocks
}

// Retry always fails on Windows.
func Retry(path string, shared bool, within time.Duration) (*Lock, error) { return nil, errNoLocks }

// Held always fails on Windows.
func Held(path string) (bool, error) { return false, errNoLocks }
