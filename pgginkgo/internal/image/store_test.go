//go:build !windows

package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeData writes a small data directory: the store treats it as opaque
// files, so these tests need no PostgreSQL.
func fakeData(t *testing.T, files int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	must(t, os.MkdirAll(filepath.Join(dir, "base", "1"), 0o700))
	for i := range files {
		must(t, os.WriteFile(filepath.Join(dir, "base", "1", fmt.Sprint(1000+i)), []byte(strings.Repeat("x", 100*i)), 0o600))
	}
	must(t, os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte("15\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "postmaster.opts"), []byte("postgres -D ...\n"), 0o600))
	must(t, os.Symlink("base", filepath.Join(dir, "link")))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func capture(t *testing.T, s Store, key string, files int) Info {
	t.Helper()
	l, err := s.LockBuild(context.Background(), key, nil)
	must(t, err)
	defer l.Release()
	info, err := s.Capture(context.Background(), key, fakeData(t, files), Manifest{Version: "15.18", Templates: []Template{{Name: "default", Database: "tpl", Ready: []string{"r0"}}}})
	must(t, err)
	return info
}

func TestCaptureThenCopyOutReproducesTheDataDirectory(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "images")}
	info := capture(t, s, Key("pg15-abc", 2), 5)
	if info.Files != 9 { // base, base/1, 5 files, PG_VERSION, link; postmaster.opts stays out
		t.Fatalf("manifest lists %d entries, want 9: %+v", info.Files, info.Manifest.Files)
	}
	if st, err := os.Stat(info.Dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("image directory: %v, mode %v; want 0700", err, st.Mode().Perm())
	}
	dst := filepath.Join(t.TempDir(), "copy")
	must(t, s.CopyOut(context.Background(), info, dst))
	b, err := os.ReadFile(filepath.Join(dst, "base", "1", "1004"))
	must(t, err)
	if len(b) != 400 {
		t.Fatalf("copied file has %d bytes, want 400", len(b))
	}
	if _, err := os.Stat(filepath.Join(dst, "postmaster.opts")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("postmaster.opts travelled into the copy: %v", err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "base" {
		t.Fatalf("symlink: %q, %v", l, err)
	}
	if got, ok := s.Find("pg15-abc", 1); !ok || got.Key != info.Key {
		t.Fatalf("Find(ready 1) = %v, %v; an image with more ready databases serves fewer", got.Key, ok)
	}
	if _, ok := s.Find("pg15-abc", 3); ok {
		t.Fatal("Find(ready 3) found an image holding only 2")
	}
	if _, ok := s.Find("pg15-other", 1); ok {
		t.Fatal("Find found an image of another key")
	}
	// Sizes reads the same image's head: one template, one ready database,
	// and the three databases of every cluster.
	if bytes, dbs, ok := s.Sizes("pg15-abc", 1); !ok || bytes != info.Bytes || dbs != 5 {
		t.Fatalf("Sizes = %d bytes, %d databases, %v; want %d, 5, true", bytes, dbs, ok, info.Bytes)
	}
	if _, _, ok := s.Sizes("pg15-abc", 3); ok {
		t.Fatal("Sizes(ready 3) found an image holding only 2")
	}
}

func TestCopyOutRefusesADamagedImage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(path string) error
		want   string
	}{
		{"truncated", func(p string) error { return os.Truncate(p, 10) }, "has 10 bytes, the manifest says 300"},
		{"deleted", os.Remove, "base/1/1003 is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Store{Dir: filepath.Join(t.TempDir(), "images")}
			info := capture(t, s, Key("pg15-abc", 1), 5)
			must(t, tc.damage(filepath.Join(info.DataDir(), "base", "1", "1003")))
			dst := filepath.Join(t.TempDir(), "copy")
			err := s.CopyOut(context.Background(), info, dst)
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CopyOut = %v; want ErrDamaged saying %q", err, tc.want)
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused copy left %s behind", dst)
			}
		})
	}
}

func TestABuildLeftoverIsNeverAnImageAndIsSwept(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "images")}
	must(t, s.Ensure())
	key := Key("pg15-abc", 2)
	// What a builder killed mid-copy leaves: a build directory with data
	// and no manifest, its lock released by the kernel.
	left := filepath.Join(s.Dir, key+".build-123")
	must(t, os.MkdirAll(filepath.Join(left, "data", "base"), 0o700))
	if _, ok := s.Find("pg15-abc", 1); ok {
		t.Fatal("a build directory was taken for an image")
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("List shows a build directory: %v", list)
	}
	// A live builder's directory stays.
	live := filepath.Join(s.Dir, Key("pg15-live", 2)+".build-456")
	must(t, os.MkdirAll(live, 0o700))
	l, err := s.LockBuild(context.Background(), Key("pg15-live", 2), nil)
	must(t, err)
	defer l.Release()
	swept := s.Sweep()
	if len(swept) != 1 || swept[0] != key+".build-123" {
		t.Fatalf("Sweep removed %v; want only the dead build", swept)
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatalf("Sweep removed a live build: %v", err)
	}
}

func TestLockBuildWaitsForTheBuilder(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "images")}
	key := Key("pg15-abc", 2)
	held, err := s.LockBuild(context.Background(), key, nil)
	must(t, err)
	waited := make(chan struct{})
	got := make(chan error)
	go func() {
		l, err := s.LockBuild(context.Background(), key, func() { close(waited) })
		l.Release()
		got <- err
	}()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("the second builder did not report waiting")
	}
	held.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	held, _ = s.LockBuild(context.Background(), key, nil)
	defer held.Release()
	if _, err := s.LockBuild(ctx, key, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a cancelled wait returned %v", err)
	}
}

func TestEvictKeepsTheNewestAndWhatIsInUse(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "images")}
	base := time.Now().Add(-time.Hour)
	var keys []string
	for i := range 6 {
		key := Key(fmt.Sprintf("pg15-%d", i), 2)
		capture(t, s, key, 3)
		used := base.Add(time.Duration(i) * time.Minute)
		must(t, os.WriteFile(filepath.Join(s.Dir, key, "used"), nil, 0o600))
		must(t, os.Chtimes(filepath.Join(s.Dir, key, "used"), used, used))
		keys = append(keys, key)
	}
	// The oldest image is in use by a running suite.
	use := s.Use(keys[0])
	if use == nil {
		t.Fatal("Use returned no lock")
	}
	// Use touched it: put its last use back to the oldest.
	must(t, os.Chtimes(filepath.Join(s.Dir, keys[0], "used"), base, base))
	removed, err := s.Evict(context.Background(), Limits{MaxImages: 3}, false)
	must(t, err)
	var gone []string
	for _, r := range removed {
		gone = append(gone, r.Key)
	}
	if want := []string{keys[2], keys[1]}; fmt.Sprint(gone) != fmt.Sprint(want) {
		t.Fatalf("evicted %v; want %v (oldest first after the newest 3, sparing the one in use)", gone, want)
	}
	list, err := s.List()
	must(t, err)
	var left []string
	for _, l := range list {
		left = append(left, l.Key)
		if l.Key == keys[0] && !l.InUse {
			t.Fatal("List does not show the image in use")
		}
	}
	if want := []string{keys[5], keys[4], keys[3], keys[0]}; fmt.Sprint(left) != fmt.Sprint(want) {
		t.Fatalf("left %v; want %v", left, want)
	}
	// A byte limit evicts too.
	removed, err = s.Evict(context.Background(), Limits{MaxBytes: list[0].Bytes + 1}, false)
	must(t, err)
	if len(removed) != 2 {
		t.Fatalf("byte limit evicted %d images, want 2 (all but the newest and the one in use)", len(removed))
	}
	use.Release()
	removed, err = s.Evict(context.Background(), Limits{}, true)
	must(t, err)
	if len(removed) != 2 {
		t.Fatalf("all evicted %d images, want the 2 left", len(removed))
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("images left after evicting all: %v", list)
	}
}

func TestCaptureReplacesADamagedImageOfTheSameKey(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "images")}
	key := Key("pg15-abc", 2)
	old := capture(t, s, key, 3)
	must(t, os.Truncate(filepath.Join(old.DataDir(), "base", "1", "1002"), 1))
	fresh := capture(t, s, key, 3)
	must(t, s.CopyOut(context.Background(), fresh, filepath.Join(t.TempDir(), "copy")))
	entries, _ := os.ReadDir(s.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".trash-") || strings.Contains(e.Name(), ".build-") {
			t.Fatalf("left behind: %s", e.Name())
		}
	}
}

func TestCopyTreeKeepsModesAndLinks(t *testing.T) {
	src := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "base", "1"), 0o700))
	must(t, os.WriteFile(filepath.Join(src, "base", "1", "1259"), []byte("relation"), 0o600))
	must(t, os.WriteFile(filepath.Join(src, "PG_VERSION"), []byte("15\n"), 0o640))
	must(t, os.Symlink("base/1/1259", filepath.Join(src, "link")))

	dst := filepath.Join(t.TempDir(), "data")
	must(t, CopyTree(context.Background(), src, dst))

	for path, want := range map[string]os.FileMode{"base": 0o700, "base/1/1259": 0o600, "PG_VERSION": 0o640} {
		st, err := os.Stat(filepath.Join(dst, path))
		must(t, err)
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode().Perm(), want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "base", "1", "1259")); string(b) != "relation" {
		t.Errorf("content not copied: %q", b)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "base/1/1259" {
		t.Errorf("symlink: %q, %v", l, err)
	}
	// The cache must never be shared with a cluster: a copy, not a link.
	must(t, os.WriteFile(filepath.Join(dst, "PG_VERSION"), []byte("changed"), 0o640))
	if b, _ := os.ReadFile(filepath.Join(src, "PG_VERSION")); string(b) != "15\n" {
		t.Errorf("writing the copy changed the source: %q", b)
	}
}
