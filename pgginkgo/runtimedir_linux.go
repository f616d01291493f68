package pgginkgo

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

const tmpfsMagic = 0x01021994

// memoryBackedDir returns /dev/shm and its free bytes when it is a tmpfs.
// Every boot copies a data directory of about a thousand files, and on a
// disk-backed filesystem the file creations alone cost several hundred
// milliseconds; on tmpfs they cost a tenth of that. Containers often cap
// /dev/shm at 64 MB, so the caller compares the free space with what the
// run needs (see chooseRuntimeDir).
func memoryBackedDir() (string, int64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil || int64(st.Type) != tmpfsMagic {
		return "", -1
	}
	return "/dev/shm", int64(st.Bavail) * int64(st.Bsize)
}

// totalMemory is the machine's memory in bytes, or -1.
func totalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return -1
}
