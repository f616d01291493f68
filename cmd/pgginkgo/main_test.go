package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// cliPath is the pgginkgo binary TestMain builds; the tests run it as a
// user would, against a real PostgreSQL.
var cliPath string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "pggcli-bin.")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		cliPath = filepath.Join(dir, "pgginkgo")
		args := []string{"build", "-o", cliPath}
		if raceEnabled() {
			args = append(args, "-race")
		}
		build := exec.Command("go", append(args, ".")...)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building the CLI: %v\n", err)
			return 1
		}
		return m.Run()
	}())
}

// raceEnabled says whether this test binary runs under -race, so that the
// CLI is built the same way.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// pgg runs the CLI with args and env on top of the environment, minus any
// PGGINKGO_ variable of the caller's.
func pgg(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliPath, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PGGINKGO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if raceEnabled() {
		// The race runtime sleeps a second at exit by default.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running pgginkgo %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("$ pgginkgo %s\n%s", strings.Join(args, " "), r)
	return r
}

// expect fails the test unless r exited with code and each of out and errs
// appears in stdout and stderr respectively.
func expect(t *testing.T, r result, code int, out []string, errs []string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\n%s", r.code, code, r)
	}
	for _, s := range out {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q\n%s", s, r)
		}
	}
	for _, s := range errs {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q\n%s", s, r)
		}
	}
}

// tempDir is a directory every account can traverse: as root, PostgreSQL
// runs as nobody and must reach the cache inside it.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "pggcli.")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var schema = map[string]string{
	"001_users.sql":  "create table users (id bigserial primary key, email text not null unique);\n",
	"002_orders.sql": "create table orders (id bigserial primary key, user_id bigint not null references users(id), total numeric not null);\n",
	"003_seed.sql":   "insert into users (email) values ('a@example.com'), ('b@example.com');\n",
}

var builtKey = regexp.MustCompile(`(?m)^built image (pg\S+) in `)

func TestPrepareLsGC(t *testing.T) {
	tmp := tempDir(t)
	migrations, cache := filepath.Join(tmp, "migrations"), filepath.Join(tmp, "cache")
	writeFiles(t, migrations, schema)
	imageDir := func() string {
		// As root the images are nobody's; otherwise ours.
		uid := os.Geteuid()
		if uid == 0 {
			uid = 65534
		}
		return filepath.Join(cache, fmt.Sprintf("u%d", uid), "images")
	}

	// An empty cache first: nothing to list or remove, and where it looked.
	r := pgg(t, nil, "ls", "--cache-dir", cache)
	expect(t, r, 0, []string{"no images in " + imageDir(), "does not exist yet"}, nil)

	// --procs defaults to what ginkgo -p uses here; an image holds a ready
	// database for at least 2 processes.
	ready := max(2, ginkgoProcs())
	r = pgg(t, nil, "prepare", "--migrations", migrations, "--cache-dir", cache, "--offline")
	expect(t, r, 0, []string{"built image pg", "templates default", fmt.Sprintf("%d ready databases", ready), "files", "MiB", "in " + imageDir()}, nil)
	m := builtKey.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no image key in the output of prepare\n%s", r)
	}
	key := m[1]
	if !strings.HasSuffix(key, fmt.Sprintf("-r%d", ready)) {
		t.Errorf("image %s: want %d ready databases", key, ready)
	}

	r = pgg(t, nil, "prepare", "--migrations", migrations, "--cache-dir", cache, "--offline")
	expect(t, r, 0, []string{"image " + key + " was already present", "nothing to build"}, nil)
	if strings.Contains(r.stdout, "built image") {
		t.Errorf("the second prepare built again\n%s", r)
	}

	r = pgg(t, nil, "ls", "--cache-dir", cache)
	expect(t, r, 0, []string{"KEY", "POSTGRESQL", "TEMPLATES", "SIZE", "FILES", "CREATED", "LAST USED", "IN USE", key, "default", "1 image", imageDir()}, nil)

	r = pgg(t, nil, "gc", "--cache-dir", cache)
	expect(t, r, 0, []string{"nothing to remove (limits 5 images, 2 GiB)", "1 image"}, nil)
	expect(t, pgg(t, nil, "ls", "--cache-dir", cache), 0, []string{key}, nil)

	// An edited schema is a new image, prepared here for 3 processes; the
	// old one stays until eviction.
	writeFiles(t, migrations, map[string]string{"004_index.sql": "create index orders_user on orders (user_id);\n"})
	r = pgg(t, nil, "prepare", "--migrations", migrations, "--cache-dir", cache, "--offline", "--procs", "3")
	expect(t, r, 0, []string{"built image pg", "3 ready databases"}, nil)
	m = builtKey.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no image key in the output of prepare\n%s", r)
	}
	key2 := m[1]
	if key2 == key || !strings.HasSuffix(key2, "-r3") {
		t.Errorf("edited migrations with --procs 3 gave image %s; want a new key ending in -r3 (old: %s)", key2, key)
	}
	expect(t, pgg(t, nil, "ls", "--cache-dir", cache), 0, []string{key, key2, "2 images"}, nil)

	// The least recently used goes first.
	r = pgg(t, nil, "gc", "--max-images", "1", "--cache-dir", cache)
	expect(t, r, 0, []string{"removed " + key + " (", "removed 1 image", "limits 1 image, 2 GiB", "1 image left"}, nil)
	if strings.Contains(r.stdout, "removed "+key2) {
		t.Errorf("gc --max-images 1 removed the newest image\n%s", r)
	}
	r = pgg(t, nil, "ls", "--cache-dir", cache)
	expect(t, r, 0, []string{key2, "1 image"}, nil)
	if strings.Contains(r.stdout, key+" ") {
		t.Errorf("ls still lists %s after gc\n%s", key, r)
	}

	// A byte limit in a unit keeps what fits.
	expect(t, pgg(t, nil, "gc", "--max-bytes", "1GiB", "--cache-dir", cache), 0, []string{"nothing to remove (limits 5 images, 1 GiB)"}, nil)

	// An image a running suite uses is listed as such and outlives --all.
	if release := holdUseLock(t, filepath.Join(imageDir(), key2+".use.lock")); release != nil {
		expect(t, pgg(t, nil, "ls", "--cache-dir", cache), 0, []string{"IN USE", key2, " yes"}, nil)
		r = pgg(t, nil, "gc", "--all", "--cache-dir", cache)
		expect(t, r, 0, []string{"nothing to remove (--all)", "kept, in use by a running suite: " + key2}, nil)
		release()
	}

	r = pgg(t, nil, "gc", "--all", "--cache-dir", cache)
	expect(t, r, 0, []string{"removed " + key2, "removed 1 image", "(--all)", "0 images left"}, nil)
	expect(t, pgg(t, nil, "ls", "--cache-dir", cache), 0, []string{"no images in " + imageDir()}, nil)
	expect(t, pgg(t, nil, "gc", "--all", "--cache-dir", cache), 0, []string{"nothing to remove: no images in " + imageDir()}, nil)
}

func TestPrepareFailures(t *testing.T) {
	tmp := tempDir(t)
	cache := filepath.Join(tmp, "cache")
	empty, bad, good := filepath.Join(tmp, "empty"), filepath.Join(tmp, "bad"), filepath.Join(tmp, "good")
	writeFiles(t, empty, nil)
	writeFiles(t, bad, map[string]string{"001_bad.sql": "create tabel widgets (id int);\n"})
	writeFiles(t, good, schema)

	r := pgg(t, nil, "prepare", "--migrations", empty, "--cache-dir", cache, "--offline")
	expect(t, r, 1, nil, []string{"pgginkgo prepare: ", empty, "holds no .sql files"})

	r = pgg(t, nil, "prepare", "--migrations", bad, "--cache-dir", cache, "--offline")
	expect(t, r, 1, nil, []string{"001_bad.sql:1:8", `syntax error at or near "tabel"`, "fix the migration"})

	r = pgg(t, nil, "prepare", "--migrations", good, "--cache-dir", cache, "--offline", "--version", "99")
	expect(t, r, 1, nil, []string{`unsupported PostgreSQL version "99"`})

	r = pgg(t, []string{"PGGINKGO_IMAGE=off"}, "prepare", "--migrations", good, "--cache-dir", cache, "--offline")
	expect(t, r, 1, nil, []string{"PGGINKGO_IMAGE=off", "unset it"})

	expect(t, pgg(t, nil, "ls", "--cache-dir", cache), 0, []string{"no images in"}, nil)
}

func TestDoctor(t *testing.T) {
	cache := filepath.Join(tempDir(t), "cache")
	r := pgg(t, nil, "doctor", "--cache-dir", cache)
	problems := strings.Count(r.stdout, "PROBLEM: ")
	want := 0
	if problems > 0 {
		want = 1 // this machine has a problem; the output must say so
	}
	account := "runs as you"
	if os.Geteuid() == 0 {
		account = "runs as nobody (uid 65534)"
	}
	expect(t, r, want, []string{
		"binaries\n", "tried  explicit option / PGGINKGO_BINARIES: not set", "using  ", "found by ",
		"account\n", account,
		"cache\n", "directory  " + cache, "does not exist yet", "images     none in",
		"/dev/shm\n", "/dev/shm   ",
		"connection budget\n", "max_connections up to ", "room for ", "parallel processes",
		fmt.Sprintf("ginkgo -p starts %d processes", ginkgoProcs()),
	}, nil)
	if problems > 0 {
		if strings.Count(r.stdout, "  fix: ") != problems {
			t.Errorf("every problem needs a fix\n%s", r)
		}
	} else if !strings.Contains(r.stdout, "no problems found") {
		t.Errorf("no summary line\n%s", r)
	}
	if _, err := os.Stat(cache); err == nil {
		t.Errorf("doctor created %s; it must only look", cache)
	}
}

func TestDoctorProblems(t *testing.T) {
	tmp := tempDir(t)
	cache := filepath.Join(tmp, "cache")
	noBinaries := filepath.Join(tmp, "nobin")
	writeFiles(t, noBinaries, nil)

	r := pgg(t, nil, "doctor", "--cache-dir", cache, "--version", "99")
	expect(t, r, 1, []string{`PROBLEM: unsupported PostgreSQL version "99"`, "fix: pass --version with a supported major", "1 problem found"}, nil)

	r = pgg(t, nil, "doctor", "--cache-dir", cache, "--binaries", noBinaries)
	expect(t, r, 1, []string{"PROBLEM: explicit option is set to", "lacks postgres", "fix: point --binaries"}, nil)

	r = pgg(t, []string{"PGGINKGO_BINARIES=" + noBinaries}, "doctor", "--cache-dir", cache)
	expect(t, r, 1, []string{"tried  PGGINKGO_BINARIES", "PROBLEM: PGGINKGO_BINARIES is set to", "fix: "}, nil)

	r = pgg(t, []string{"PGGINKGO_IMAGE=maybe"}, "doctor", "--cache-dir", cache)
	expect(t, r, 1, []string{`PROBLEM: PGGINKGO_IMAGE="maybe" is neither on nor off`, "fix: set PGGINKGO_IMAGE=off"}, nil)

	// More processes than the connection budget allows (one connection
	// per 8 MiB of memory, at most 10000): ginkgo -p follows GOMAXPROCS,
	// and so does doctor.
	r = pgg(t, []string{"GOMAXPROCS=1000"}, "doctor", "--cache-dir", cache)
	expect(t, r, 1, []string{"ginkgo -p starts 999 processes", "PROBLEM: the budget allows", "fewer than the 999 ginkgo -p starts here",
		"fix: run ginkgo with --procs=", `pgginkgo.Setting("max_connections", "`}, nil)

	if os.Geteuid() != 0 {
		t.Log("not root: the account and traversal problems only arise as root")
		return
	}
	r = pgg(t, nil, "doctor", "--cache-dir", cache, "--run-as", "pggcli-no-such-account")
	expect(t, r, 1, []string{`PROBLEM: `, `account "pggcli-no-such-account" does not exist`, "fix: create the account (useradd", "--run-as"}, nil)

	closed := filepath.Join(tmp, "closed")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	r = pgg(t, nil, "doctor", "--cache-dir", filepath.Join(closed, "cache"))
	expect(t, r, 1, []string{"PROBLEM: PostgreSQL runs as nobody, which cannot enter", "blocked at " + closed, "fix: chmod o+x " + closed}, nil)

	// Binaries that root can run but nobody cannot reach: hard links to an
	// installed server inside the closed directory.
	installed, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(installed) == 0 {
		t.Log("no Debian PostgreSQL: the unreachable-binaries check is skipped")
		return
	}
	hidden := filepath.Join(closed, "pg", "bin")
	writeFiles(t, hidden, nil)
	for _, exe := range []string{"postgres", "pg_ctl", "initdb"} {
		if err := os.Link(filepath.Join(filepath.Dir(installed[0]), exe), filepath.Join(hidden, exe)); err != nil {
			t.Logf("cannot link the binaries (%v): the unreachable-binaries check is skipped", err)
			return
		}
	}
	r = pgg(t, nil, "doctor", "--cache-dir", cache, "--binaries", hidden)
	expect(t, r, 1, []string{"using  " + hidden, "PROBLEM: PostgreSQL runs as nobody, which cannot reach " + filepath.Join(hidden, "postgres"), "blocked at " + closed, "fix: install PostgreSQL somewhere every account can read"}, nil)
}

func TestUsage(t *testing.T) {
	commandList := []string{"prepare", "doctor", "ls", "gc", "help <command>"}

	r := pgg(t, nil)
	expect(t, r, 2, nil, commandList)
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		r = pgg(t, nil, args...)
		expect(t, r, 0, commandList, nil)
	}
	for _, args := range [][]string{{"help", "prepare"}, {"prepare", "-h"}, {"prepare", "--help"}} {
		r = pgg(t, nil, args...)
		expect(t, r, 0, []string{"Usage: pgginkgo prepare --migrations DIR", "-migrations", "-procs", "-offline", "-repository", "-cache-dir", "-version"}, nil)
	}
	expect(t, pgg(t, nil, "help", "gc"), 0, []string{"Usage: pgginkgo gc", "-all", "-max-images", "-max-bytes", "512MiB"}, nil)
	expect(t, pgg(t, nil, "help", "ls"), 0, []string{"Usage: pgginkgo ls", "-cache-dir"}, nil)
	expect(t, pgg(t, nil, "help", "doctor"), 0, []string{"Usage: pgginkgo doctor", "-version", "-cache-dir"}, nil)
}

func TestBadInput(t *testing.T) {
	tmp := tempDir(t)
	migrations := filepath.Join(tmp, "migrations")
	writeFiles(t, migrations, schema)
	file := filepath.Join(migrations, "001_users.sql")
	missing := filepath.Join(tmp, "no-such-dir")
	cache := filepath.Join(tmp, "cache")
	for _, tc := range []struct {
		args []string
		want []string // in stderr
	}{
		{[]string{"frob"}, []string{`pgginkgo: unknown command "frob"`, "prepare, doctor, ls, gc", "pgginkgo help"}},
		{[]string{"help", "frob"}, []string{`unknown command "frob"`}},
		{[]string{"--cache-dir", cache, "ls"}, []string{"flag --cache-dir comes before any command"}},
		{[]string{"prepare", "--frob"}, []string{"pgginkgo prepare: unknown flag --frob", "--migrations", "pgginkgo help prepare"}},
		{[]string{"doctor", "--frob"}, []string{"pgginkgo doctor: unknown flag --frob", "--cache-dir"}},
		{[]string{"ls", "--all"}, []string{"pgginkgo ls: unknown flag --all"}},
		{[]string{"gc", "-x"}, []string{"pgginkgo gc: unknown flag -x", "--max-bytes"}},
		{[]string{"prepare", "--cache-dir", cache}, []string{"--migrations is required", "--migrations ./migrations"}},
		{[]string{"prepare", "--migrations"}, []string{"flag --migrations needs a value"}},
		{[]string{"prepare", "--migrations", missing}, []string{"--migrations " + missing + ": no such file or directory", "pass the directory that holds"}},
		{[]string{"prepare", "--migrations", "no-such-dir"}, []string{"--migrations no-such-dir: no such file or directory (looked for "}},
		{[]string{"prepare", "--migrations", file}, []string{"--migrations " + file + " is a file, not a directory"}},
		{[]string{"prepare", migrations}, []string{"unexpected argument", "pass --migrations " + migrations}},
		{[]string{"prepare", "--migrations", migrations, "--procs", "-1"}, []string{"--procs -1", "at least 1", "ginkgo -p uses"}},
		{[]string{"prepare", "--migrations", migrations, "--procs", "0"}, []string{"--procs 0", "at least 1"}},
		{[]string{"prepare", "--migrations", migrations, "--procs", "many"}, []string{`--procs "many": not a whole number`}},
		{[]string{"prepare", "--migrations", migrations, "--offline=maybe"}, []string{`--offline="maybe": not true or false`}},
		{[]string{"prepare", "--migrations", migrations, "--cache-dir", file}, []string{"--cache-dir " + file + " is a file"}},
		{[]string{"doctor", "--binaries", missing}, []string{"--binaries " + missing + ": no such file or directory"}},
		{[]string{"ls", "extra"}, []string{`unexpected argument "extra": ls takes only flags`}},
		{[]string{"ls", "--cache-dir", file}, []string{"is a file, not a directory"}},
		{[]string{"gc", "--max-bytes", "lots"}, []string{`--max-bytes "lots": not a size`, "512MiB", "2GiB", "1G"}},
		{[]string{"gc", "--max-bytes", "12XB"}, []string{`--max-bytes "12XB": not a size`}},
		{[]string{"gc", "--max-bytes", "-5"}, []string{`--max-bytes "-5": not a size`}},
		{[]string{"gc", "--max-bytes", "0"}, []string{"--max-bytes 0", "pass --all"}},
		{[]string{"gc", "--max-bytes", "99999999T"}, []string{"--max-bytes", "too large"}},
		{[]string{"gc", "--max-images", "0"}, []string{"--max-images 0", "pass --all"}},
		{[]string{"gc", "--max-images", "-3"}, []string{"--max-images -3"}},
		{[]string{"gc", "--max-images", "five"}, []string{`--max-images "five": not a whole number`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := pgg(t, nil, tc.args...)
			expect(t, r, 2, nil, tc.want)
			if r.stdout != "" {
				t.Errorf("a usage error printed to stdout\n%s", r)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1073741824": 1 << 30, "512MiB": 512 << 20, "2GiB": 2 << 30, "1G": 1 << 30, "1g": 1 << 30,
		"2 GiB": 2 << 30, "2.0 GiB": 2 << 30, "1.5GiB": 3 << 29, "10KB": 10000, "1GB": 1e9,
		"3Mi": 3 << 20, "7b": 7, "1T": 1 << 40, " 64M ": 64 << 20,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "lots", "1.2.3G", "-1", "1 GiBs", "1e9", "9999999999T"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d; want an error", in, got)
		}
	}
}
