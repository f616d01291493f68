package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/npmpg"
)

// step is one part of the core set, run against each major with
// PGGINKGO_BINARIES pointing at its binaries.
type step struct {
	name string
	pkg  string // the package whose test binary runs, relative to the root
	// ginkgoCLI runs the binary under the ginkgo CLI with -p; otherwise it
	// runs directly, with args.
	ginkgoCLI bool
	// goTest: the binary is plain Go tests (counted by --- PASS), not a
	// Ginkgo suite.
	goTest bool
	args   []string
}

// coreSet is what every major must pass: the example suite under ginkgo -p,
// the proof that a recycled database equals a fresh clone (also with
// extensions), the changes that force a replace, and a boot through the
// warm initdb cache and the migrated image.
var coreSet = []step{
	{name: "example suite (ginkgo -p)", pkg: "examples/suite_test", ginkgoCLI: true},
	{name: "recycling", pkg: "pgginkgo/internal/recycle", goTest: true, args: []string{"-test.v", "-test.count=1",
		"-test.run=^(TestRecycledDatabaseEqualsFreshClone|TestChangesThatForceReplace|TestExtensionsRecycleToFreshClone)$"}},
	{name: "warm cache and image", pkg: "pgginkgo", args: []string{"-ginkgo.v", "-ginkgo.no-color",
		"-ginkgo.focus=builds a cold initdb cache once",
		"-ginkgo.focus=is built once by 4 suites",
		"-ginkgo.focus=holds templates equal to freshly migrated ones"}},
}

// target is one set of binaries the matrix runs against.
type target struct {
	label   string // "pg16 16.14", "pg15 15.18 (Debian)"
	dir     string // what PGGINKGO_BINARIES gets; "" when skipped
	skipped string // why it is not run
}

func runCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	dir := fs.String("dir", defaultDir(), "directory of the npm tarballs (fetched when missing)")
	trees := fs.String("trees", "", "directory the binaries are unpacked to (default: beside -dir, or a world-readable temporary directory as root)")
	majors := fs.String("majors", "13,14,15,16,17,18", "the majors to run")
	debian := fs.String("debian", "/usr/lib/postgresql/15", "an installed PostgreSQL to run as well (\"\" for none)")
	ginkgo := fs.String("ginkgo", "bin/ginkgo", "the ginkgo CLI")
	logs := fs.String("logs", "bin/matrix", "directory for each step's full output")
	_ = fs.Parse(args)

	root, err := repoRoot()
	if err != nil {
		return err
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(root, p)
	}
	*dir, *ginkgo, *logs = abs(*dir), abs(*ginkgo), abs(*logs)
	if *trees == "" {
		*trees = treesDir(*dir)
	}
	if err := os.MkdirAll(*logs, 0o755); err != nil {
		return err
	}

	targets, err := prepare(ctx, *dir, *trees, *majors, *debian)
	if err != nil {
		return err
	}
	var runnable bool
	for _, t := range targets {
		runnable = runnable || t.dir != ""
	}
	bins := map[string]string{}
	if runnable {
		work, err := os.MkdirTemp("", "pgmatrix-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(work)
		for _, s := range coreSet {
			if bins[s.pkg], err = buildTest(ctx, root, work, s.pkg); err != nil {
				return err
			}
		}
	}

	var failed []string
	for _, t := range targets {
		if t.dir == "" {
			fmt.Printf("%s: skipped: %s\n", t.label, t.skipped)
			continue
		}
		start := time.Now()
		var specs, skips int
		var failure string
		for _, s := range coreSet {
			logFile := filepath.Join(*logs, slug(t.label)+"-"+slug(s.name)+".log")
			r := runStep(ctx, root, s, bins[s.pkg], t.dir, *ginkgo, logFile)
			specs, skips = specs+r.passed, skips+r.skipped
			if r.err != nil {
				failure = fmt.Sprintf("%s failed: %v (full output: %s)\n%s", s.name, r.err, logFile, indent(r.tail))
				break
			}
		}
		took := time.Since(start).Seconds()
		if failure != "" {
			fmt.Printf("%s: FAILED after %.1f s: %s\n", t.label, took, failure)
			failed = append(failed, t.label)
			continue
		}
		fmt.Printf("%s: ok (%d specs, %.1f s)\n", t.label, specs, took)
		if skips > 0 {
			fmt.Printf("  %d skipped at run time (see %s)\n", skips, *logs)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("the matrix failed for %s", strings.Join(failed, ", "))
	}
	return nil
}

// prepare fetches and unpacks each requested major, or says why it cannot.
func prepare(ctx context.Context, dir, trees, majors, debian string) ([]target, error) {
	var targets []target
	for _, m := range strings.Split(majors, ",") {
		major, err := strconv.Atoi(strings.TrimSpace(m))
		if err != nil {
			return nil, fmt.Errorf("-majors: %q is not a major version", m)
		}
		rel, ok := npmpg.ForMajor(major)
		if !ok {
			return nil, fmt.Errorf("-majors: no pinned npm release of PostgreSQL %d", major)
		}
		t, err := npmTarget(ctx, dir, trees, rel)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
		if debian != "" && major == 15 {
			targets = append(targets, debianTarget(ctx, debian))
		}
	}
	return targets, nil
}

// npmTarget fetches (once) and unpacks the binaries of rel. Only a
// tarball that fails its integrity check is an error; one that cannot be
// fetched makes the major skipped.
func npmTarget(ctx context.Context, dir, trees string, rel npmpg.Release) (target, error) {
	t := target{label: fmt.Sprintf("pg%d %s", rel.Major(), rel.Server())}
	if dir == "" {
		t.skipped = "no directory for the npm tarballs (NPM_PG_DIR is empty)"
		return t, nil
	}
	tgz, err := npmpg.Fetch(ctx, dir, rel)
	switch {
	case errors.Is(err, npmpg.ErrIntegrity):
		return t, err
	case err != nil:
		t.skipped = fmt.Sprintf("%s is not in %s and cannot be fetched: %v", rel.FileName(), dir, err)
		return t, nil
	}
	t.dir = filepath.Join(trees, "pg-"+rel.Version)
	if err := npmpg.Extract(tgz, t.dir, rel); err != nil {
		return t, fmt.Errorf("unpacking %s: %w", tgz, err)
	}
	return t, nil
}

// debianTarget checks dir as pgginkgo itself will (binaries.Resolve) and
// labels it with the version it found.
func debianTarget(ctx context.Context, dir string) target {
	res, err := binaries.Resolve(ctx, binaries.Request{Explicit: dir, Version: "15", Offline: true})
	if err != nil {
		return target{label: "pg15 (Debian)", skipped: err.Error() + " (apt-get install postgresql-15)"}
	}
	return target{label: fmt.Sprintf("pg15 %s (Debian)", res.Version), dir: dir}
}

// treesDir is where unpacked binaries go: beside the tarballs, unless this
// runs as root and others cannot reach that directory, since pgginkgo runs
// PostgreSQL as nobody then.
func treesDir(dir string) string {
	trees := filepath.Join(filepath.Dir(dir), "pg-matrix")
	if os.Geteuid() != 0 || traversable(filepath.Dir(dir)) {
		return trees
	}
	return filepath.Join(os.TempDir(), "pgginkgo-matrix-0")
}

func traversable(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err == nil && st.Mode().Perm()&0o001 == 0 {
			return false
		}
		if filepath.Dir(d) == d {
			return true
		}
	}
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module root (go list -m): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func buildTest(ctx context.Context, root, work, pkg string) (string, error) {
	out := filepath.Join(work, slug(pkg)+".test")
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", out, "./"+pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the tests of %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// stepResult is what one step showed.
type stepResult struct {
	passed, skipped int
	tail            string // the end of its output, for a failure
	err             error
}

var (
	ginkgoTally = regexp.MustCompile(`(?m)(\d+) Passed \| (\d+) Failed \| (?:\d+ Flaked \| )?(\d+) Pending \| (\d+) Skipped`)
	// Verbose output marks each spec that Skip skipped; the tally's Skipped
	// also counts the ones left out by -focus.
	ginkgoSkip = regexp.MustCompile(`(?m)^S \[SKIPPED\]`)
	goPass     = regexp.MustCompile(`(?m)^\s*--- PASS: `)
	goSkip     = regexp.MustCompile(`(?m)^\s*--- SKIP: `)
)

func runStep(ctx context.Context, root string, s step, bin, binaries, ginkgo, logFile string) stepResult {
	dir := filepath.Join(root, s.pkg)
	var cmd *exec.Cmd
	if s.ginkgoCLI {
		// The ginkgo CLI runs a compiled suite in the binary's directory,
		// and the suite reads its migrations relative to its package.
		local := filepath.Join(dir, ".pgmatrix.test")
		if err := copyFile(bin, local); err != nil {
			return stepResult{err: err}
		}
		defer os.Remove(local)
		cmd = exec.CommandContext(ctx, ginkgo, "-p", "-v", "--no-color", local)
	} else {
		cmd = exec.CommandContext(ctx, bin, s.args...)
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PGGINKGO_BINARIES="+binaries, "GINKGO_CLI="+ginkgo, "GINKGO_NO_COLOR=TRUE", "PGGINKGO_TEST_DSN=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	_ = os.WriteFile(logFile, out.Bytes(), 0o644)
	text := out.String()

	var r stepResult
	if m := ginkgoTally.FindAllStringSubmatch(text, -1); len(m) > 0 && !s.goTest {
		r.passed, _ = strconv.Atoi(m[len(m)-1][1]) // nested suites print theirs first
		r.skipped = len(ginkgoSkip.FindAllString(text, -1))
	} else {
		r.passed, r.skipped = len(goPass.FindAllString(text, -1)), len(goSkip.FindAllString(text, -1))
	}
	if err == nil && r.passed == 0 {
		err = errors.New("no test ran")
	}
	if err != nil {
		r.err = err
		lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
		r.tail = strings.Join(lines[max(0, len(lines)-40):], "\n")
	}
	return r
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}
