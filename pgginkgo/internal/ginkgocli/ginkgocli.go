// Package ginkgocli gives the tests that drive the ginkgo CLI (pgginkgo's
// crash and parallel tests, the decorators fixture runs) the one CLI they
// all use: GINKGO_CLI when it is set, as the Makefile sets it to its
// bin/ginkgo, else the CLI of the ginkgo version go.mod requires, built
// once into a directory named after that version, which later runs reuse
// instead of each leaving a binary behind.
//
// Tests outside pgginkgo/, which cannot import it, run the command
// pgginkgo/internal/cmd/ginkgocli, which prints the path.
package ginkgocli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// EnvVar names the variable that points at a ginkgo CLI to use instead of
// building one.
const EnvVar = "GINKGO_CLI"

// module is the ginkgo module, whose CLI is its ginkgo package.
const module = "github.com/onsi/ginkgo/v2"

var (
	mu   sync.Mutex // guards path; tests ask from parallel goroutines
	path string
)

// Path returns the absolute path of the ginkgo CLI: GINKGO_CLI, else a
// build of the version go.mod requires. It runs the go command in the
// current directory, which must be inside this module, and remembers its
// answer for the rest of the process.
func Path(ctx context.Context) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if path != "" {
		return path, nil
	}
	p, err := find(ctx)
	if err != nil {
		return "", err
	}
	path = p
	return p, nil
}

func find(ctx context.Context) (string, error) {
	if p := os.Getenv(EnvVar); p != "" {
		// Absolute: tests run it from other directories.
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("ginkgocli: %s=%q: %w", EnvVar, p, err)
		}
		if st, err := os.Stat(abs); err != nil || st.IsDir() {
			return "", fmt.Errorf("ginkgocli: %s=%q is not a file; build the CLI there (make bin/ginkgo) or unset it to have one built", EnvVar, p)
		}
		return abs, nil
	}
	version, err := requiredVersion(ctx)
	if err != nil {
		return "", err
	}
	// Per user as well: a directory another account created is not ours
	// to write in.
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("pgginkgo-ginkgo-cli-%s-%d", version, os.Getuid()))
	bin := filepath.Join(dir, "ginkgo")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("ginkgocli: %w", err)
	}
	// Build beside it and rename, so that a concurrent run never executes
	// a half-written binary.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("ginkgocli: %w", err)
	}
	defer os.RemoveAll(tmp)
	out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(tmp, "ginkgo"), module+"/ginkgo").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ginkgocli: building the ginkgo CLI %s (or set %s): %w\n%s", version, EnvVar, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "ginkgo"), bin); err != nil {
		return "", fmt.Errorf("ginkgocli: %w", err)
	}
	return bin, nil
}

// requiredVersion is the ginkgo version go.mod requires. (A test binary's
// build info lists no dependencies, so ask the go command.)
func requiredVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", module).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(exit.Stderr)))
		}
		return "", fmt.Errorf("ginkgocli: reading the ginkgo version go.mod requires (go list -m %s, run inside the module): %w", module, err)
	}
	v := strings.TrimSpace(string(out))
	if !strings.HasPrefix(v, "v") || strings.ContainsAny(v, " /\t\n") {
		return "", fmt.Errorf("ginkgocli: go list -m %s printed %q, not a version", module, v)
	}
	return v, nil
}
