//go:build !linux

package main

// shmInfo describes /dev/shm.
type shmInfo struct {
	err         error
	tmpfs       bool
	free, total int64
}

// statShm: pgginkgo uses /dev/shm on Linux only.
func statShm() (shmInfo, bool) { return shmInfo{}, false }
