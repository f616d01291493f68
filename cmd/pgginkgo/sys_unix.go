//go:build !windows

package main

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// groupOf returns the primary group of uid.
func groupOf(uid int) (uint32, bool) {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return 0, false
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(gid), true
}

// unreachable returns the first directory on the way to path that uid/gid
// (without supplementary groups) cannot enter, or path itself when it is
// a file uid/gid cannot open; "" when path is reachable. Missing parts of
// path are skipped: whoever creates them picks their mode.
func unreachable(path string, uid, gid uint32) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	var chain []string
	for p := abs; ; p = filepath.Dir(p) {
		chain = append(chain, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		st, err := os.Stat(chain[i])
		if err != nil {
			continue
		}
		want := os.FileMode(0o1) // enter a directory, run a file
		if !permits(st, uid, gid, want) {
			return chain[i]
		}
	}
	return ""
}

// permits reports whether uid/gid has the permission bits want (as in the
// "other" triplet: 1 = x, 2 = w, 4 = r) on st.
func permits(st os.FileInfo, uid, gid uint32, want os.FileMode) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := st.Mode().Perm()
	switch {
	case uid == 0:
		return true
	case sys.Uid == uid:
		return mode>>6&want == want
	case sys.Gid == gid:
		return mode>>3&want == want
	default:
		return mode&want == want
	}
}
