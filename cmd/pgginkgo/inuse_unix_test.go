//go:build !windows

package main

import (
	"os"
	"syscall"
	"testing"
)

// holdUseLock does what a running suite does to its image: it holds a
// shared flock on the image's use lock, which ls and gc read as "in use".
func holdUseLock(t *testing.T, path string) (release func()) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return func() { f.Close() }
}
