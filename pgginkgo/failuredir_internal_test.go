package pgginkgo

import "testing"

// The paths are the shapes the ginkgo CLI gives a test binary
// (AbsPathForGeneratedAsset in ginkgo/internal) for a suite in
// /src/app/store.
func TestGinkgoOutputDirFromTheCLIsPaths(t *testing.T) {
	const wd = "/src/app/store"
	for _, c := range []struct {
		why        string
		paths      []string
		dir, suite string
	}{
		{"ginkgo --output-dir=/out --json-report=r.json, run in /src", []string{"/out/app_store_r.json"}, "/out", "app_store"},
		{"run in the package directory: the suite is its name", []string{"/out/store_r.json"}, "/out", "store"},
		{"run from elsewhere (../src/app/store)", []string{"/out/src_app_store_r.json"}, "/out", "src_app_store"},
		{"a report name with a directory", []string{"/out/app_store_reports/r.json"}, "/out", "app_store"},
		{"a profile of process 2, after an empty report path", []string{"", "/out/app_store_cpuprofile.out.2"}, "/out", "app_store"},
		{"no --output-dir: the CLI puts the report beside the suite", []string{"/src/app/store/r.json"}, "", ""},
		{"no --output-dir, an absolute report path", []string{"/src/app/store/tmp/x/r.json"}, "", ""},
		{"a relative path, given by hand to go test", []string{"store_r.json"}, "", ""},
		{"no report, no profile", nil, "", ""},
	} {
		dir, suite := ginkgoOutputDir(wd, c.paths)
		if dir != c.dir || suite != c.suite {
			t.Errorf("%s: ginkgoOutputDir(%q, %q) = %q, %q; want %q, %q", c.why, wd, c.paths, dir, suite, c.dir, c.suite)
		}
	}
}
