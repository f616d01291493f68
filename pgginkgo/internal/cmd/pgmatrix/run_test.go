package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/npmpg"
)

// With no network and nothing cached, every major is skipped with the
// reason, and the matrix does not fail.
func TestOfflineWithoutCacheSkipsEachMajor(t *testing.T) {
	t.Setenv(npmpg.RegistryEnv, "http://127.0.0.1:1")
	dir := t.TempDir()
	targets, err := prepare(context.Background(), dir, t.TempDir(), "13,14,15,16,17,18", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 6 {
		t.Fatalf("%d targets, want 6", len(targets))
	}
	for i, tg := range targets {
		rel := npmpg.Matrix[i]
		if tg.dir != "" || !strings.HasPrefix(tg.label, fmt.Sprintf("pg%d %s", rel.Major(), rel.Server())) ||
			!strings.Contains(tg.skipped, rel.FileName()+" is not in "+dir+" and cannot be fetched: fetching http://127.0.0.1:1/") {
			t.Errorf("target %d = %+v", i, tg)
		}
	}
}

func TestAnEmptyTarballDirectorySkipsEachMajor(t *testing.T) {
	targets, err := prepare(context.Background(), "", t.TempDir(), "16", "")
	if err != nil || len(targets) != 1 || targets[0].skipped != "no directory for the npm tarballs (NPM_PG_DIR is empty)" {
		t.Fatalf("prepare = %+v, %v", targets, err)
	}
}

func TestBadMajorsAreRefused(t *testing.T) {
	for majors, want := range map[string]string{
		"16,x": `-majors: "x" is not a major version`,
		"12":   "-majors: no pinned npm release of PostgreSQL 12",
	} {
		if _, err := prepare(context.Background(), "", t.TempDir(), majors, ""); err == nil || err.Error() != want {
			t.Errorf("prepare(%q) = %v; want %q", majors, err, want)
		}
	}
}

func TestDebianTargetNamesItsVersion(t *testing.T) {
	if _, err := os.Stat("/usr/lib/postgresql/15/bin/postgres"); err != nil {
		t.Skip("needs Debian's PostgreSQL 15")
	}
	tg := debianTarget(context.Background(), "/usr/lib/postgresql/15")
	if !strings.HasPrefix(tg.label, "pg15 15.") || !strings.HasSuffix(tg.label, " (Debian)") || tg.dir != "/usr/lib/postgresql/15" {
		t.Fatalf("%+v", tg)
	}
	if tg := debianTarget(context.Background(), "/nonexistent"); tg.dir != "" || !strings.Contains(tg.skipped, "/nonexistent") {
		t.Fatalf("%+v", tg)
	}
}
