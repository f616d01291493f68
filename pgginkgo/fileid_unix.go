//go:build !windows

package pgginkgo

import (
	"os"
	"syscall"
)

// fileID is a file's inode, which a rename-over replaces.
func fileID(st os.FileInfo) uint64 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Ino)
	}
	return 0
}
