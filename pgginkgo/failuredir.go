package pgginkgo

import (
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/onsi/ginkgo/v2"
)

// failureDirName is the directory that holds a run's dumps of failed
// specs' databases.
const failureDirName = "pgginkgo-failures"

// failureDir is where this run's dumps go: <output-dir>/<suite>_pgginkgo-failures
// when the run has a Ginkgo --output-dir that it can see, named the way
// Ginkgo names its own per-suite files there, and else pgginkgo-failures
// in the working directory, which go test and the ginkgo CLI both set to
// the package's directory.
func failureDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if out, suite := ginkgoOutputDir(wd, generatedAssetPaths()); out != "" {
		return filepath.Join(out, suite+"_"+failureDirName), nil
	}
	return filepath.Join(wd, failureDirName), nil
}

// generatedAssetPaths are the report and profile paths this test binary
// was given.
func generatedAssetPaths() []string {
	_, rc := ginkgo.GinkgoConfiguration()
	paths := []string{rc.JSONReport, rc.GoJSONReport, rc.JUnitReport, rc.TeamcityReport}
	for _, name := range []string{"test.coverprofile", "test.cpuprofile", "test.memprofile", "test.blockprofile", "test.mutexprofile"} {
		if f := flag.Lookup(name); f != nil {
			paths = append(paths, f.Value.String())
		}
	}
	return paths
}

// ginkgoOutputDir finds the ginkgo CLI's --output-dir from the paths it
// passed to this binary. The CLI does not pass the flag itself: it turns
// every report and profile path into <absolute output dir>/<suite>_<name>,
// where <suite> is the package's path relative to the CLI's directory with
// each separator turned into "_", or the package directory's name when the
// CLI runs inside it (ginkgo/internal: AbsPathForGeneratedAsset,
// TestSuite.NamespacedName). Without --output-dir it passes
// <package dir>/<name>. So a path of the first shape names the output
// directory and the suite; a run with no report and no profile flag gives
// the binary no way to know, and its dumps go beside the suite.
func ginkgoOutputDir(wd string, paths []string) (dir, suite string) {
	names := suiteNames(wd)
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			continue // given by hand to go test, not by the CLI
		}
		for d := filepath.Dir(p); ; d = filepath.Dir(d) {
			rel, err := filepath.Rel(d, p)
			if err != nil {
				break
			}
			first, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
			for _, n := range names {
				if strings.HasPrefix(first, n+"_") {
					return d, n
				}
			}
			if d == filepath.Dir(d) {
				break
			}
		}
	}
	return "", ""
}

// suiteNames lists, longest first, the names Ginkgo can give the suite in
// wd: its path's trailing components joined with "_".
func suiteNames(wd string) []string {
	parts := strings.FieldsFunc(filepath.ToSlash(wd), func(r rune) bool { return r == '/' })
	names := make([]string, 0, len(parts))
	for i := range parts {
		n := strings.TrimLeft(strings.ReplaceAll(strings.Join(parts[i:], "_"), " ", "_"), ".")
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}

// clearFailureDumps removes the dumps an earlier run left in dir, and dir
// itself when nothing else is in it, so that what the directory holds
// after a run is that run's evidence and nothing older. Other files stay.
func clearFailureDumps(dir string, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // no earlier dumps
	}
	removed := 0
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".sql"):
		case e.IsDir() && strings.HasPrefix(e.Name(), dumpWorkPrefix):
		default:
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			log.Warn("removing a previous run's failure dump failed", "file", path, "error", err)
			continue
		}
		removed++
	}
	_ = os.Remove(dir) // only when empty
	if removed > 0 {
		log.Info("removed the previous run's failure dumps", "dir", dir, "files", removed)
	}
}
