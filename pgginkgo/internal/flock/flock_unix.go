//go:build !windows

// Package flock holds the file locks pgginkgo coordinates processes with:
// flock(2), which the kernel releases however its holder dies, so a crashed
// run never leaves a lock held.
package flock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Lock is a held flock. The kernel releases it however its holder dies.
type Lock struct{ f *os.File }

// Release drops the lock; it is safe to call on a nil Lock and twice.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// ErrBusy means another live process holds the lock.
var ErrBusy = errors.New("held by another process")

// openLockFile opens (creating) a lock file. Root, for instance the CLI's gc
// run by root, hands a file it creates to the directory's owner, so that the
// unprivileged account PostgreSQL runs as can still lock it.
func openLockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if st, err := os.Stat(filepath.Dir(path)); err == nil {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
				_ = f.Chown(int(sys.Uid), int(sys.Gid))
			}
		}
	}
	return f, nil
}

// Try takes the lock at path (creating the file) without waiting, shared
// or exclusive; ErrBusy when another process holds it.
func Try(path string, shared bool) (*Lock, error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX | syscall.LOCK_NB
	if shared {
		how = syscall.LOCK_SH | syscall.LOCK_NB
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, err
	}
	return &Lock{f: f}, nil
}

// Wait takes an exclusive lock at path, polling so that ctx can end the
// wait (a blocked flock(2) cannot be interrupted). onWait, if not nil, runs
// once, when the lock turns out to be held by someone else.
func Wait(ctx context.Context, path string, onWait func()) (*Lock, error) {
	delay := 2 * time.Millisecond
	waited := false
	for {
		l, err := Try(path, false)
		if !errors.Is(err, ErrBusy) {
			return l, err
		}
		if !waited && onWait != nil {
			onWait()
		}
		waited = true
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}
