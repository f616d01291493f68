package binaries

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// installedPatterns are where package managers put server binaries, beyond
// what pg_config reports. Within a pattern, higher majors come first.
func installedPatterns() []string {
	patterns := []string{
		"/usr/lib/postgresql/*/bin", // Debian, Ubuntu
		"/usr/local/pgsql/bin",      // a source build's default prefix
	}
	switch runtime.GOOS {
	case "windows":
		return []string{`C:\Program Files\PostgreSQL\*\bin`} // EDB installer
	case "darwin":
		patterns = append(patterns,
			"/opt/homebrew/opt/postgresql@*/bin", // Homebrew on Apple silicon
			"/usr/local/opt/postgresql@*/bin",    // Homebrew on Intel
			"/Applications/Postgres.app/Contents/Versions/*/bin",
		)
	case "linux":
		patterns = append(patterns, "/home/linuxbrew/.linuxbrew/opt/postgresql@*/bin")
	}
	return append(patterns, "/usr/pgsql-*/bin") // PGDG RPMs (RHEL, Fedora)
}

// installed handles step 2: the first installed PostgreSQL of an acceptable
// version wins.
func (r *resolver) installed(ctx context.Context) (Result, bool) {
	seen := map[string]string{} // real bin dir -> the source that tried it
	try := func(source, dir string) (Result, bool) {
		start := time.Now()
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			if prev, ok := seen[real]; ok {
				r.record(Attempt{Source: source, Path: dir, Outcome: "same directory as " + prev + ", already tried"}, false)
				return Result{}, false
			}
			seen[real] = source
		}
		res, v, err := inspect(ctx, dir, source)
		if err == nil {
			if ok, why := r.want.accepts(v); !ok {
				r.record(Attempt{Source: source, Path: res.BinDir, Outcome: "skipped: " + why, Duration: time.Since(start)}, true)
				return Result{}, false
			}
			r.record(Attempt{Source: source, Path: res.BinDir, Outcome: "ok", Duration: time.Since(start)}, false)
			return res, true
		}
		r.record(Attempt{Source: source, Path: dir, Outcome: err.Error(), Err: err, Duration: time.Since(start)}, true)
		return Result{}, false
	}

	if dir, ok := r.pgConfigBinDir(ctx); ok {
		if res, ok := try("installed (pg_config)", dir); ok {
			return res, true
		}
	}
	for _, pattern := range installedPatterns() {
		if ctx.Err() != nil {
			return Result{}, false
		}
		dirs := globByVersion(pattern)
		if len(dirs) == 0 {
			r.record(Attempt{Source: "installed (" + pattern + ")", Outcome: "not present"}, false)
			continue
		}
		for _, dir := range dirs {
			if res, ok := try("installed ("+dir+")", dir); ok {
				return res, true
			}
		}
	}
	return Result{}, false
}

// pgConfigBinDir asks the pg_config on PATH where its server binaries are.
// It names the installation the user set up for building against, so it is
// the best guess of "the PostgreSQL on this machine".
func (r *resolver) pgConfigBinDir(ctx context.Context) (string, bool) {
	const source = "installed (pg_config)"
	start := time.Now()
	path, err := exec.LookPath("pg_config")
	if err != nil {
		r.record(Attempt{Source: source, Outcome: "pg_config is not on PATH", Duration: time.Since(start)}, false)
		return "", false
	}
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--bindir").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		if err == nil {
			err = errors.New("empty output")
		}
		r.record(Attempt{Source: source, Path: path, Outcome: path + " --bindir failed: " + err.Error(), Err: err, Duration: time.Since(start)}, true)
		return "", false
	}
	return dir, true
}

// versionInPath picks the first number out of the part a glob's star
// matched, e.g. 15 from "/usr/pgsql-15/bin" or "/opt/…/postgresql@15/bin".
var versionInPath = regexp.MustCompile(`\d+(?:\.\d+)?`)

// globByVersion expands pattern and orders the matches by the version in
// them, highest first, because a newer major is the better default and
// lexical order would put "9.6" after "15".
func globByVersion(pattern string) []string {
	matches, err := filepath.Glob(pattern)
	if err != nil || len(matches) == 0 {
		return nil
	}
	prefix := pattern[:strings.IndexByte(pattern+"*", '*')]
	key := func(m string) float64 {
		n, _ := strconv.ParseFloat(versionInPath.FindString(strings.TrimPrefix(m, prefix)), 64)
		return n
	}
	slices.SortStableFunc(matches, func(a, b string) int {
		ka, kb := key(a), key(b)
		switch {
		case ka > kb:
			return -1
		case ka < kb:
			return 1
		}
		return strings.Compare(a, b)
	})
	var dirs []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.IsDir() {
			dirs = append(dirs, m)
		}
	}
	return dirs
}
