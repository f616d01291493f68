package ginkgocli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvVarNamesTheCLI(t *testing.T) {
	dir := t.TempDir()
	cli := filepath.Join(dir, "ginkgo")
	if err := os.WriteFile(cli, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv(EnvVar, "ginkgo")
	got, err := find(context.Background())
	if err != nil || got != cli {
		t.Fatalf("find with %s=ginkgo in %s = %q, %v; want the absolute %s", EnvVar, dir, got, err, cli)
	}

	t.Setenv(EnvVar, filepath.Join(dir, "missing"))
	_, err = find(context.Background())
	want := `ginkgocli: GINKGO_CLI="` + filepath.Join(dir, "missing") + `" is not a file; build the CLI there (make bin/ginkgo) or unset it to have one built`
	if err == nil || err.Error() != want {
		t.Fatalf("find with a missing CLI: %v; want %s", err, want)
	}
}

func TestBuildsTheRequiredVersionOnce(t *testing.T) {
	t.Setenv(EnvVar, "")
	ctx := context.Background()
	version, err := requiredVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first, err := find(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(first, "pgginkgo-ginkgo-cli-"+version+"-") {
		t.Errorf("the CLI is at %s, in no directory named after %s", first, version)
	}
	out, err := exec.Command(first, "version").Output()
	if err != nil || !strings.Contains(string(out), strings.TrimPrefix(version, "v")) {
		t.Fatalf("%s version = %q, %v; want %s", first, out, err, version)
	}
	st, _ := os.Stat(first)
	again, err := find(ctx)
	if err != nil || again != first {
		t.Fatalf("second find = %q, %v; want %s", again, err, first)
	}
	if st2, _ := os.Stat(again); !os.SameFile(st, st2) || !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the second find rebuilt the CLI")
	}
}
