//go:build !windows

package pgginkgo

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/agent"
)

// account returns the unprivileged account PostgreSQL runs as, or nil when
// the test process is not root and everything runs as the caller.
func account(cfg *config) (*agent.Account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("pgginkgo: running as root is supported on Linux only (this is %s); run the tests as a normal user", runtime.GOOS)
	}
	u, err := user.Lookup(cfg.runAs)
	if err != nil {
		return nil, fmt.Errorf("pgginkgo: the test runs as root, so PostgreSQL must run as an unprivileged account, but account %q does not exist (%v); create it (useradd --system --no-create-home pgtest) and pass pgginkgo.RunAs(\"pgtest\"), or run the tests as a normal user", cfg.runAs, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgginkgo: account %q has a non-numeric uid/gid (%s/%s)", cfg.runAs, u.Uid, u.Gid)
	}
	if uid == 0 {
		return nil, fmt.Errorf("pgginkgo: RunAs(%q) names a root account; PostgreSQL refuses to run as root, so name an unprivileged account such as nobody", cfg.runAs)
	}
	return &agent.Account{Name: u.Username, UID: uint32(uid), GID: uint32(gid)}, nil
}

// accessibleBy checks that acct can reach and run the binaries, so that the
// failure is reported here, with a fix, instead of as an exec error from the
// helper.
func accessibleBy(binDir string, acct *agent.Account) error {
	path, err := filepath.EvalSymlinks(binDir)
	if err != nil {
		return fmt.Errorf("pgginkgo: binaries directory %s: %w", binDir, err)
	}
	for p := path; ; p = filepath.Dir(p) {
		if !permits(p, acct, 0o1) {
			return fmt.Errorf("pgginkgo: PostgreSQL runs as %s, which cannot enter %s (on the way to %s); move the binaries somewhere world-readable (e.g. under /opt), pass pgginkgo.CacheDir outside /root, or pass pgginkgo.RunAs with an account that can", acct, p, binDir)
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	if !permits(filepath.Join(path, "postgres"), acct, 0o1) {
		return fmt.Errorf("pgginkgo: PostgreSQL runs as %s, which cannot execute %s; make it executable for others (chmod o+rx) or pass pgginkgo.RunAs", acct, filepath.Join(path, "postgres"))
	}
	return nil
}

// permits reports whether acct has the permission bits want (as in the
// "other" triplet: 1 = x, 2 = w, 4 = r) on path.
func permits(path string, acct *agent.Account, want os.FileMode) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := st.Mode().Perm()
	switch {
	case sys.Uid == acct.UID:
		return mode>>6&want == want
	case sys.Gid == acct.GID:
		return mode>>3&want == want
	default:
		return mode&want == want
	}
}

// prepareCacheDir creates the cache root and, when PostgreSQL runs as
// another account, a subdirectory that account owns, for its initdb cache.
func prepareCacheDir(dir string, acct *agent.Account) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("pgginkgo: cache directory %s cannot be created: %v; make it writable, or pass pgginkgo.CacheDir / set PGGINKGO_CACHE_DIR", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		return "", fmt.Errorf("pgginkgo: cache directory %s is not writable: %v; make it writable, or pass pgginkgo.CacheDir / set PGGINKGO_CACHE_DIR", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	uid := os.Geteuid()
	if acct != nil {
		uid = int(acct.UID)
	}
	sub := filepath.Join(dir, "u"+strconv.Itoa(uid))
	if err := os.MkdirAll(sub, 0o700); err != nil {
		return "", fmt.Errorf("pgginkgo: cache directory %s: %w", sub, err)
	}
	if acct != nil {
		if err := os.Chown(sub, int(acct.UID), int(acct.GID)); err != nil {
			return "", fmt.Errorf("pgginkgo: handing cache directory %s to %s: %w", sub, acct, err)
		}
		if !permits(dir, acct, 0o1) {
			return "", fmt.Errorf("pgginkgo: PostgreSQL runs as %s, which cannot enter the cache directory %s; pass pgginkgo.CacheDir with a directory others can traverse (e.g. /var/cache/pgginkgo)", acct, dir)
		}
	}
	return sub, nil
}
