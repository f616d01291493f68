package main

import "syscall"

const tmpfsMagic = 0x01021994

// shmInfo describes /dev/shm.
type shmInfo struct {
	err         error // Statfs failed: absent
	tmpfs       bool
	free, total int64
}

// statShm reads /dev/shm, which pgginkgo uses for clusters on Linux when
// it is a tmpfs with at least 1 GiB free.
func statShm() (shmInfo, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil {
		return shmInfo{err: err}, true
	}
	return shmInfo{
		tmpfs: int64(st.Type) == tmpfsMagic,
		free:  int64(st.Bavail) * int64(st.Bsize),
		total: int64(st.Blocks) * int64(st.Bsize),
	}, true
}
