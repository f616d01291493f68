//go:build !windows

package pgginkgo

import "syscall"

// processAlive says whether pid names a live process: signal 0 checks it
// without sending anything (EPERM: it lives, as another account).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
