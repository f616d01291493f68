//go:build !windows

package pgginkgo

import (
	"os"
	"path/filepath"
	"syscall"
)

// freeBytes is the space an unprivileged user can still use on the
// filesystem of path, or of its nearest existing parent; -1 when unknown.
func freeBytes(path string) int64 {
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(path, &st)
		if err == nil {
			return int64(st.Bavail) * int64(st.Bsize)
		}
		parent := filepath.Dir(path)
		if !os.IsNotExist(err) || parent == path {
			return -1
		}
		path = parent
	}
}
