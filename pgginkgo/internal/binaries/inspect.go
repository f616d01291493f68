package binaries

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// requiredPrograms are what embedded-postgres and pgginkgo run.
var requiredPrograms = []string{"postgres", "pg_ctl", "initdb"}

// exe adds the platform's executable suffix.
func exe(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

// layoutError is a problem with the directory layout, as opposed to a
// postgres binary that exists but cannot run; the caller adds advice on what
// the layout should be.
type layoutError struct {
	msg string
	err error
}

func (e *layoutError) Error() string { return e.msg }
func (e *layoutError) Unwrap() error { return e.err }

func layoutErr(err error, format string, args ...any) error {
	return &layoutError{msg: fmt.Sprintf(format, args...), err: err}
}

// locate accepts either an installation root (holding bin/postgres) or the
// bin directory itself, because users copy either from their package
// manager's documentation. It returns absolute paths.
func locate(dir string) (binDir, root string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", layoutErr(err, "%s: %v", dir, err)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", "", layoutErr(err, "%s does not exist", abs)
	case err != nil:
		return "", "", layoutErr(err, "%s: %v", abs, err)
	case !st.IsDir():
		return "", "", layoutErr(nil, "%s is a file, not a directory", abs)
	}
	binDir = abs
	if st, err := os.Stat(filepath.Join(abs, "bin")); err == nil && st.IsDir() {
		binDir = filepath.Join(abs, "bin")
	}
	var missing []string
	for _, p := range requiredPrograms {
		if !isExecutable(filepath.Join(binDir, exe(p))) {
			missing = append(missing, exe(p))
		}
	}
	if len(missing) > 0 {
		return "", "", layoutErr(nil, "%s lacks %s (it needs %s; a client-only package is not enough)",
			binDir, strings.Join(missing, ", "), strings.Join(requiredPrograms, ", "))
	}
	return binDir, filepath.Dir(binDir), nil
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	return runtime.GOOS == "windows" || st.Mode()&0o111 != 0
}

// versionTimeout bounds `postgres --version`, which answers in milliseconds
// unless something is badly wrong (a hung network file system, say).
const versionTimeout = 20 * time.Second

// serverVersionOf runs `postgres --version`. The binary's own answer is the
// only reliable one: directory names lie (symlinks, Homebrew's unversioned
// "postgresql"), and running it also proves that its libraries load.
// PostgreSQL answers --version before its refuse-to-run-as-root check, so
// this works as root.
func serverVersionOf(ctx context.Context, binDir string) (serverVersion, error) {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	bin := filepath.Join(binDir, exe("postgres"))
	cmd := exec.CommandContext(ctx, bin, "--version")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return serverVersion{}, fmt.Errorf("%s --version failed: %w: %s", bin, err, msg)
		}
		return serverVersion{}, fmt.Errorf("%s --version failed: %w", bin, err)
	}
	return parseServerVersion(string(out))
}

// inspect turns a candidate directory into a Result, or says why it is not
// one.
func inspect(ctx context.Context, dir, source string) (Result, serverVersion, error) {
	binDir, root, err := locate(dir)
	if err != nil {
		return Result{}, serverVersion{}, err
	}
	v, err := serverVersionOf(ctx, binDir)
	if err != nil {
		return Result{}, serverVersion{}, err
	}
	return Result{BinDir: binDir, Root: root, Version: v.text, Major: v.major, Source: source}, v, nil
}
