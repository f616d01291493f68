package image

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
)

// Store is a directory of images. Its zero value is unusable; set Dir.
type Store struct {
	Dir string
}

// Info describes one image in a Store.
type Info struct {
	Key      string
	Dir      string
	Ready    int // ready databases per template the image's layout holds
	Bytes    int64
	Files    int
	Created  time.Time
	LastUsed time.Time
	InUse    bool // a running suite was booted from it; List sets it, Find does not
	Manifest *Manifest
}

// DataDir is the image's data directory.
func (i Info) DataDir() string { return filepath.Join(i.Dir, "data") }

// Key joins the hash of an image's content with its layout: the number of
// ready databases per template it holds. Images of one content and several
// layouts may coexist; a run takes the smallest that holds enough.
func Key(base string, ready int) string { return fmt.Sprintf("%s-r%d", base, ready) }

// splitKey undoes Key.
func splitKey(key string) (base string, ready int, ok bool) {
	i := strings.LastIndex(key, "-r")
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(key[i+2:])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return key[:i], n, true
}

// Ensure creates the store directory (0700).
func (s Store) Ensure() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("creating the image cache %s: %w", s.Dir, err)
	}
	return nil
}

func (s Store) path(name string) string { return filepath.Join(s.Dir, name) }

// Find returns the image for base that holds at least ready databases per
// template, preferring the smallest such layout. An image whose manifest is
// missing or unreadable is not an image.
func (s Store) Find(base string, ready int) (Info, bool) {
	for _, key := range s.candidates(base, ready) {
		if info, err := s.info(key, false); err == nil {
			return info, true
		}
	}
	return Info{}, false
}

// Sizes is what Find's image holds, from the head of its manifest only:
// its size in bytes and its databases (the templates, their ready
// databases, and the three of every cluster). The file list that follows
// the head is most of a manifest (4 ms to parse for two ready databases,
// 40 ms for 64), and a booting suite needs only these to size its runtime
// directory.
func (s Store) Sizes(base string, ready int) (bytes int64, databases int, ok bool) {
	for _, key := range s.candidates(base, ready) {
		if h, err := readManifestHead(s.path(key)); err == nil {
			databases = 3
			for _, t := range h.Templates {
				databases += 1 + len(t.Ready)
			}
			return h.Bytes, databases, true
		}
	}
	return 0, 0, false
}

// candidates are the keys of base's images that hold at least ready
// databases per template, the smallest layout first.
func (s Store) candidates(base string, ready int) []string {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil
	}
	type cand struct {
		key string
		n   int
	}
	var cs []cand
	for _, e := range entries {
		if b, n, ok := splitKey(e.Name()); ok && b == base && n >= ready && e.IsDir() {
			cs = append(cs, cand{e.Name(), n})
		}
	}
	slices.SortFunc(cs, func(x, y cand) int { return x.n - y.n })
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.key
	}
	return keys
}

// info reads an image's manifest. With probeUse it also finds out whether a
// running suite uses the image, which takes that image's use lock for an
// instant: listings need it, a booting suite's Find does not, and must not
// contend with other suites taking the lock.
func (s Store) info(key string, probeUse bool) (Info, error) {
	dir := s.path(key)
	m, err := readManifest(dir)
	if err != nil {
		return Info{}, err
	}
	_, ready, _ := splitKey(key)
	info := Info{Key: key, Dir: dir, Ready: ready, Bytes: m.Bytes, Files: len(m.Files), Created: m.Created, Manifest: m}
	info.LastUsed = m.Created
	if st, err := os.Stat(filepath.Join(dir, "used")); err == nil {
		info.LastUsed = st.ModTime()
	}
	if !probeUse {
		return info, nil
	}
	if l, err := flock.Try(s.path(key+".use.lock"), false); err == nil {
		l.Release()
	} else if errors.Is(err, flock.ErrBusy) {
		info.InUse = true
	}
	return info, nil
}

// List returns every image, most recently used first.
func (s Store) List() ([]Info, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the image cache %s: %w", s.Dir, err)
	}
	var out []Info
	for _, e := range entries {
		if _, _, ok := splitKey(e.Name()); !ok || !e.IsDir() {
			continue
		}
		if info, err := s.info(e.Name(), true); err == nil {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastUsed.After(out[j].LastUsed) })
	return out, nil
}

// Use marks key as in use by a running suite until the lock is released,
// and records the use for eviction. It is best effort: a read-only cache
// can still be booted from, it just cannot be marked.
func (s Store) Use(key string) *flock.Lock {
	now := time.Now()
	used := filepath.Join(s.path(key), "used")
	if err := os.Chtimes(used, now, now); errors.Is(err, os.ErrNotExist) {
		if f, err := os.OpenFile(used, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			f.Close()
		}
	}
	// Listings and eviction probe the lock exclusively for an instant;
	// retry past that.
	l, err := flock.Retry(s.path(key+".use.lock"), true, 50*time.Millisecond)
	if err != nil {
		return nil
	}
	return l
}

// CopyOut copies the image's data directory to dst, which must not exist,
// checking every file against the manifest as it goes. A mismatch returns
// an error wrapping ErrDamaged and removes dst.
func (s Store) CopyOut(ctx context.Context, info Info, dst string) error {
	if err := os.Mkdir(dst, 0o700); err != nil {
		return err
	}
	if err := copyFiles(ctx, info.DataDir(), dst, info.Manifest.Files, true); err != nil {
		os.RemoveAll(dst)
		return err
	}
	return nil
}

// LockBuild takes the build lock of key, waiting while another process
// builds it; onWait runs once if it has to wait.
func (s Store) LockBuild(ctx context.Context, key string, onWait func()) (*flock.Lock, error) {
	if err := s.Ensure(); err != nil {
		return nil, err
	}
	l, err := flock.Wait(ctx, s.path(key+".build.lock"), onWait)
	if err != nil {
		return nil, fmt.Errorf("locking the image build of %s: %w", key, err)
	}
	return l, nil
}

// Capture turns the stopped data directory at dataDir into the image key.
// The caller holds key's build lock. It copies into a build directory,
// writes the manifest last and renames the directory into place, replacing
// a damaged image of the same key; on any error it leaves nothing behind.
func (s Store) Capture(ctx context.Context, key, dataDir string, m Manifest) (Info, error) {
	s.sweepBuilds(key)
	tmp, err := os.MkdirTemp(s.Dir, key+".build-")
	if err != nil {
		return Info{}, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	files, total, err := scan(dataDir)
	if err != nil {
		return Info{}, fmt.Errorf("listing %s: %w", dataDir, err)
	}
	if err := os.Mkdir(filepath.Join(tmp, "data"), 0o700); err != nil {
		return Info{}, err
	}
	if err := copyFiles(ctx, dataDir, filepath.Join(tmp, "data"), files, false); err != nil {
		return Info{}, fmt.Errorf("copying the data directory into the image cache: %w", err)
	}
	m.Format, m.Key, m.Files, m.Bytes = FormatVersion, key, files, total
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	if err := writeManifest(tmp, &m); err != nil {
		return Info{}, fmt.Errorf("writing the image manifest: %w", err)
	}
	if _, err := os.Stat(s.path(key)); err == nil {
		if err := s.Remove(key); err != nil {
			return Info{}, err
		}
	}
	if err := os.Rename(tmp, s.path(key)); err != nil {
		return Info{}, fmt.Errorf("publishing the image: %w", err)
	}
	ok = true
	return s.info(key, false)
}

// Remove deletes an image. It renames the image away first, so that no
// reader ever sees half of it.
func (s Store) Remove(key string) error {
	trash := s.path(".trash-" + randomSuffix())
	if err := os.Rename(s.path(key), trash); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("removing image %s: %w", key, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("removing image %s: %w", key, err)
	}
	return nil
}

// sweepBuilds removes the build directories a killed builder of key left.
// The caller holds key's build lock, so no live builder owns them.
func (s Store) sweepBuilds(key string) {
	matches, _ := filepath.Glob(filepath.Join(s.Dir, key+".build-*"))
	for _, m := range matches {
		os.RemoveAll(m)
	}
}

// Sweep removes what dead builders left, for every key whose build lock is
// free, and trash a killed removal left. It returns what it removed.
func (s Store) Sweep() []string {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".trash-"):
			if os.RemoveAll(s.path(name)) == nil {
				removed = append(removed, name)
			}
		case strings.Contains(name, ".build-"):
			key := name[:strings.Index(name, ".build-")]
			l, err := flock.Try(s.path(key+".build.lock"), false)
			if err != nil {
				continue // a live build
			}
			if os.RemoveAll(s.path(name)) == nil {
				removed = append(removed, name)
			}
			l.Release()
		}
	}
	return removed
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
