package pgginkgo

import "syscall"

const tmpfsMagic = 0x01021994

// memoryBackedDir returns /dev/shm when it is a tmpfs with room to spare.
// Every boot copies a data directory of about a thousand files, and on a
// disk-backed filesystem the file creations alone cost several hundred
// milliseconds; on tmpfs they cost a tenth of that. Containers often cap
// /dev/shm at 64 MB, hence the free-space check.
func memoryBackedDir() string {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil || int64(st.Type) != tmpfsMagic {
		return ""
	}
	const need = 1 << 30
	if int64(st.Bavail)*int64(st.Bsize) < need {
		return ""
	}
	return "/dev/shm"
}
