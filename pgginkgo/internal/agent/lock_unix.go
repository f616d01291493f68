//go:build !windows

package agent

import (
	"errors"
	"os"
	"syscall"
)

// errLocked means another live process holds the lock.
var errLocked = errors.New("locked by a live process")

// lockFile opens path and takes an exclusive flock on it. With wait false it
// fails with errLocked instead of blocking.
func lockFile(path string, wait bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
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
			return nil, errLocked
		}
		return nil, err
	}
	return f, nil
}
