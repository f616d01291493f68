package binaries

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const debian15 = "/usr/lib/postgresql/15"

// needDebian15 skips unless Debian's PostgreSQL 15 server is installed: the
// tests below run those real binaries.
func needDebian15(t *testing.T) {
	t.Helper()
	if !isExecutable(filepath.Join(debian15, "bin", "postgres")) {
		t.Skip("needs Debian's PostgreSQL 15 server: apt-get install postgresql-15")
	}
}

func resolve(t *testing.T, req Request) (Result, *recorder, error) {
	t.Helper()
	rec := &recorder{}
	req.Logger = slog.New(rec)
	if req.CacheDir == "" {
		req.CacheDir = t.TempDir()
	}
	res, err := Resolve(context.Background(), req)
	return res, rec, err
}

func TestExplicitRootOrBinDir(t *testing.T) {
	needDebian15(t)
	noBinariesEnv(t)
	for _, dir := range []string{debian15, debian15 + "/bin", debian15 + "/bin/"} {
		res, _, err := resolve(t, Request{Explicit: dir, Offline: true})
		if err != nil {
			t.Fatalf("Explicit %s: %v", dir, err)
		}
		if res.BinDir != debian15+"/bin" || res.Root != debian15 || res.Major != 15 ||
			!strings.HasPrefix(res.Version, "15.") || res.Source != "explicit option" {
			t.Errorf("Explicit %s: got %+v", dir, res)
		}
	}
}

func TestExplicitBadPathIsAnErrorNotAFallback(t *testing.T) {
	noBinariesEnv(t)
	empty := t.TempDir()
	clientOnly := t.TempDir()
	os.Mkdir(filepath.Join(clientOnly, "bin"), 0o755)
	os.WriteFile(filepath.Join(clientOnly, "bin", "postgres"), []byte("#!/bin/sh\n"), 0o755)
	file := filepath.Join(empty, "a-file")
	os.WriteFile(file, nil, 0o644)

	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"/nonexistent/pg", []string{`explicit option is set to "/nonexistent/pg"`, "/nonexistent/pg does not exist", "bin/postgres", "fix or remove the explicit binaries option"}},
		{empty, []string{empty + " lacks postgres, pg_ctl, initdb", "a client-only package is not enough"}},
		{clientOnly, []string{filepath.Join(clientOnly, "bin") + " lacks pg_ctl, initdb"}},
		{file, []string{file + " is a file, not a directory"}},
	} {
		_, _, err := resolve(t, Request{Explicit: tc.dir, Offline: true})
		if !errors.Is(err, ErrInvalidBinaries) {
			t.Fatalf("Explicit %s: want ErrInvalidBinaries, got %v", tc.dir, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Explicit %s: error lacks %q:\n%v", tc.dir, w, err)
			}
		}
	}
}

func TestEnvVarIsHonoured(t *testing.T) {
	needDebian15(t)
	t.Setenv(EnvVar, debian15)
	res, _, err := resolve(t, Request{Offline: true})
	if err != nil || res.Source != EnvVar || res.BinDir != debian15+"/bin" {
		t.Fatalf("got %+v, %v", res, err)
	}

	// The explicit option wins over the variable.
	t.Setenv(EnvVar, "/nonexistent")
	res, _, err = resolve(t, Request{Explicit: debian15, Offline: true})
	if err != nil || res.Source != "explicit option" {
		t.Fatalf("explicit over env: got %+v, %v", res, err)
	}

	_, _, err = resolve(t, Request{Offline: true})
	if !errors.Is(err, ErrInvalidBinaries) || !strings.Contains(err.Error(), `PGGINKGO_BINARIES is set to "/nonexistent"`) ||
		!strings.Contains(err.Error(), "unset it to let pgginkgo find or download PostgreSQL") {
		t.Fatalf("bad env var: got %v", err)
	}
}

func TestExplicitOfTheWrongMajor(t *testing.T) {
	needDebian15(t)
	noBinariesEnv(t)
	_, _, err := resolve(t, Request{Explicit: debian15, Version: "14", Offline: true})
	if !errors.Is(err, ErrInvalidBinaries) || !strings.Contains(err.Error(), "is major 15, but 14 was requested") {
		t.Fatalf("got %v", err)
	}
}

func TestInstalledDiscoveryFinds15(t *testing.T) {
	needDebian15(t)
	noBinariesEnv(t)
	for _, version := range []string{"", "15"} {
		res, rec, err := resolve(t, Request{Version: version, Offline: true})
		if err != nil {
			t.Fatalf("Version %q: %v", version, err)
		}
		if res.Major != 15 || res.BinDir != debian15+"/bin" || !strings.HasPrefix(res.Source, "installed (") {
			t.Errorf("Version %q: got %+v; log:%s", version, res, rec)
		}
	}
}

func TestInstalledDiscoveryWithoutPgConfig(t *testing.T) {
	needDebian15(t)
	noBinariesEnv(t)
	t.Setenv("PATH", t.TempDir()) // no pg_config: the Debian glob must find it
	res, rec, err := resolve(t, Request{Version: "15", Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Source != "installed ("+debian15+"/bin)" {
		t.Errorf("got %+v; log:%s", res, rec)
	}
	if rec.count("outcome", "pg_config is not on PATH") != 1 {
		t.Errorf("the missing pg_config was not logged:%s", rec)
	}
}

func TestNothingFoundListsEveryAttempt(t *testing.T) {
	needDebian15(t)
	noBinariesEnv(t)
	cache := t.TempDir()
	_, rec, err := resolve(t, Request{Version: "14", Offline: true, CacheDir: cache})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("want *NotFoundError, got %v", err)
	}
	msg := err.Error()
	for _, w := range []string{
		"no usable PostgreSQL binaries for version 14",
		"explicit option / PGGINKGO_BINARIES: not set",
		"installed (pg_config) [" + debian15 + "/bin]: skipped: PostgreSQL 15.",
		"is major 15, but 14 was requested",
		"installed (" + debian15 + "/bin): same directory as installed (pg_config), already tried",
		"installed (/usr/pgsql-*/bin): not present",
		"download (embedded-postgres 14.18.0)",
		"skipped: offline, and 14.18.0 is not in the cache " + cache,
		"set PGGINKGO_BINARIES",
		"apt-get install postgresql-14",
		"Maven mirror",
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
	if len(nf.Attempts) != len(rec.records) {
		t.Errorf("%d attempts but %d log records:%s", len(nf.Attempts), len(rec.records), rec)
	}
	if nf.Requested != "14" {
		t.Errorf("Requested = %q", nf.Requested)
	}
}

func TestCancelledResolveSaysSo(t *testing.T) {
	noBinariesEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Resolve(ctx, Request{Version: "14", CacheDir: t.TempDir(), RepositoryURL: "http://127.0.0.1:1"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled in the chain, got %v", err)
	}
}
