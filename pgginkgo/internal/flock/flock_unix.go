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
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	if err := lockNB(f, how); err != nil {
		f.Close()
		return nil, err
	}
	return &Lock{f: f}, nil
}

// lockNB is flock(2) with LOCK_NB added to how, retried when a signal
// interrupts it; ErrBusy when another process holds the lock.
func lockNB(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case errors.Is(err, syscall.EINTR):
		case errors.Is(err, syscall.EWOULDBLOCK):
			return ErrBusy
		default:
			return err
		}
	}
}

// Retry is Try for a lock that others hold only for an instant (a probe,
// a sweep that finds nothing to do): it tries again every millisecond
// while the lock is busy, for up to within, then returns ErrBusy.
func Retry(path string, shared bool, within time.Duration) (*Lock, error) {
	for deadline := time.Now().Add(within); ; time.Sleep(time.Millisecond) {
		l, err := Try(path, shared)
		if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			return l, err
		}
	}
}

// Held reports whether another process holds the lock at path
// exclusively. Unlike Try it creates nothing and needs only read access:
// a missing file is an error wrapping os.ErrNotExist. It takes a shared
// lock for an instant when the lock is free.
func Held(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	switch err := lockNB(f, syscall.LOCK_SH); {
	case errors.Is(err, ErrBusy):
		return true, nil
	case err != nil:
		return false, err
	}
	return false, nil
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
