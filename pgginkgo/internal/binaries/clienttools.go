package binaries

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// ErrNoClientTool is wrapped by ClientTool's error when no usable client
// program exists for the server.
var ErrNoClientTool = errors.New("no PostgreSQL client program for this server")

// clientTools remembers what ClientTool found, per binDir, tool and major:
// the answer depends only on the files on this machine, and each lookup
// runs --version of every candidate. Guarded by clientToolsMu because
// failure dumps and schema reads run from many goroutines.
var (
	clientToolsMu sync.Mutex
	clientTools   = map[string]string{}
)

// ClientTool finds a client program (pg_dump, pg_restore, psql) that works
// with a server of major serverMajor whose own binaries are in binDir. The
// program beside the server is used when there is one. Relocatable builds,
// such as the ones embedded-postgres downloads, carry the server alone, so
// next come the installed ones (PATH, pg_config, the package managers'
// directories): of those, the oldest major that is not older than the
// server's, because pg_dump refuses servers newer than itself and its
// output is meant for servers at least as new as itself. psql alone, when
// only older ones are installed, falls back to the newest of them: it
// connects to newer servers and runs their SQL (some backslash commands
// may not work), which is what a spec or a kept database's psql command
// needs.
func ClientTool(ctx context.Context, binDir, tool string, serverMajor int) (string, error) {
	own := filepath.Join(binDir, tool)
	if st, err := os.Stat(own); err == nil && !st.IsDir() {
		return own, nil
	}
	key := binDir + "\x00" + tool + "\x00" + strconv.Itoa(serverMajor)
	clientToolsMu.Lock()
	found, ok := clientTools[key]
	clientToolsMu.Unlock()
	if ok {
		return found, nil
	}

	var tooOld []string
	best, bestMajor := "", 0
	older, olderMajor := "", 0 // the newest of the older ones, for psql
	for _, path := range clientCandidates(ctx, tool) {
		major, err := toolMajor(ctx, path)
		if err != nil {
			continue
		}
		if major < serverMajor {
			tooOld = append(tooOld, fmt.Sprintf("%s is PostgreSQL %d", path, major))
			if major > olderMajor {
				older, olderMajor = path, major
			}
			continue
		}
		if best == "" || major < bestMajor {
			best, bestMajor = path, major
		}
	}
	if best == "" && tool == "psql" {
		best = older
	}
	if best == "" {
		msg := fmt.Sprintf("%s is not in %s, beside the server (binaries that carry the server only)", tool, binDir)
		if len(tooOld) > 0 {
			msg += fmt.Sprintf(", and the installed ones are older than the server's PostgreSQL %d (%s), which %s does not support", serverMajor, strings.Join(tooOld, "; "), tool)
		} else {
			msg += ", and none is installed"
		}
		return "", fmt.Errorf("%w: %s; install the PostgreSQL %d client (Debian: apt-get install postgresql-client-%d), or use binaries that include the client tools (pgginkgo.BinariesPath)",
			ErrNoClientTool, msg, serverMajor, serverMajor)
	}
	clientToolsMu.Lock()
	clientTools[key] = best
	clientToolsMu.Unlock()
	return best, nil
}

// clientCandidates lists each installed copy of tool once, by real path.
func clientCandidates(ctx context.Context, tool string) []string {
	// PATH comes last: Debian's /usr/bin/pg_dump is a wrapper that picks a
	// version by itself, while the versioned directories name theirs.
	var dirs []string
	for _, pattern := range installedPatterns() {
		dirs = append(dirs, globByVersion(pattern)...)
	}
	if path, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.CommandContext(ctx, path, "--bindir").Output(); err == nil {
			dirs = append(dirs, strings.TrimSpace(string(out)))
		}
	}
	if path, err := exec.LookPath(tool); err == nil {
		dirs = append(dirs, filepath.Dir(path))
	}
	seen := map[string]bool{}
	var paths []string
	for _, dir := range dirs {
		path := filepath.Join(dir, tool)
		real, err := filepath.EvalSymlinks(path)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		paths = append(paths, path)
	}
	return paths
}

// "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", "psql (PostgreSQL) 18.4".
var toolVersionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

func toolMajor(ctx context.Context, path string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return 0, err
	}
	m := toolVersionRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("unexpected output of %s --version: %q", path, out)
	}
	return strconv.Atoi(string(m[1]))
}
