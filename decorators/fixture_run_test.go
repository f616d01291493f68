package decorators_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators/internal/specslug"
)

// fixtureRun is one run of the failing suite in testdata/fixture, seen the
// way its user sees it: the console, the exit code, the JSON report, and the
// files its ReportAfterEach nodes wrote.
type fixtureRun struct {
	mode    string
	out     string // FIXTURE_OUT: the fixture's observations
	console string
	exit    int
	report  types.Report
}

// fixtureDir is where the fixture suite lives, relative to this package.
const fixtureDir = "./testdata/fixture"

// runFixture runs the fixture in mode under `ginkgo --procs=N`, with the
// run's own temporary directory (out) as --output-dir, and checks that the
// run left nothing behind. env adds variables to the fixture's
// environment, as "KEY=value".
func runFixture(ctx SpecContext, mode string, procs int, env ...string) *fixtureRun {
	GinkgoHelper()
	return runFixtureWith(ctx, fixtureOptions{}, mode, procs, env...)
}

// fixtureOptions change how runFixtureWith runs the CLI.
type fixtureOptions struct {
	besideSuite bool      // no --output-dir, so that the run writes beside the fixture
	console     io.Writer // sees the console as it is written, besides fixtureRun.console
	dir         string    // another fixture suite than fixtureDir
	treeFails   bool      // the tree's construction fails, so the report lists no suite
}

func runFixtureWith(ctx SpecContext, o fixtureOptions, mode string, procs int, env ...string) *fixtureRun {
	GinkgoHelper()
	r := &fixtureRun{mode: mode, out: GinkgoT().TempDir()}
	dir := fixtureDir
	if o.dir != "" {
		dir = o.dir
	}
	reportPath := filepath.Join(r.out, "report.json")
	args := []string{"--procs=" + strconv.Itoa(procs), "--no-color", "--timeout=2m"}
	if o.besideSuite {
		// The CLI has each process write <package dir>/<the path given>
		// and merges that into the path given, leaving the directories:
		// remove them, up to the fixture, while they are empty.
		args = append(args, "--json-report="+reportPath)
		defer func() {
			for d := filepath.Join(dir, r.out); d != filepath.Clean(dir); d = filepath.Dir(d) {
				if os.Remove(d) != nil {
					break
				}
			}
		}()
	} else {
		// The CLI merges the report into <output dir>/report.json.
		args = append(args, "--output-dir="+r.out, "--json-report=report.json")
	}
	cmd := exec.CommandContext(ctx, fixtureCLI(), append(args, dir)...)
	cmd.Env = append(fixtureEnv(), append([]string{"FIXTURE_MODE=" + mode, "FIXTURE_OUT=" + r.out}, env...)...)
	// Its own process group, so that an interrupted spec takes the whole
	// fixture run down with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var console bytes.Buffer
	var w io.Writer = &console
	if o.console != nil {
		w = io.MultiWriter(&console, o.console)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	r.console = console.String()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.exit = exitErr.ExitCode()
	default:
		Fail("running the fixture: " + err.Error() + "\n" + r.console)
	}
	AddReportEntry("fixture "+mode, r.console, ReportEntryVisibilityFailureOrVerbose)

	data, err := os.ReadFile(reportPath)
	Expect(err).NotTo(HaveOccurred(), "the fixture wrote no JSON report; its output:\n%s", r.console)
	var reports []types.Report
	Expect(json.Unmarshal(data, &reports)).To(Succeed())
	if o.treeFails {
		Expect(reports).To(BeEmpty(), "a suite whose tree fails to build reports nothing; its output:\n%s", r.console)
		return r
	}
	Expect(reports).To(HaveLen(1), "one suite, one report")
	r.report = reports[0]
	r.expectNothingLeft()
	return r
}

// fixtureEnv is this process's environment without the PG* variables the
// outer suite exported and without FIXTURE_* leftovers, so the fixture
// starts the way a suite starts in a fresh shell.
func fixtureEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "FIXTURE_"):
		case k == "PGHOST", k == "PGPORT", k == "PGUSER", k == "PGDATABASE", k == "PGPASSFILE", k == "PGSSLMODE":
		default:
			env = append(env, kv)
		}
	}
	return env
}

// spec returns the report of the It whose text is text.
func (r *fixtureRun) spec(text string) types.SpecReport {
	GinkgoHelper()
	var found []types.SpecReport
	for _, s := range r.report.SpecReports {
		if s.LeafNodeType == types.NodeTypeIt && s.LeafNodeText == text {
			found = append(found, s)
		}
	}
	Expect(found).To(HaveLen(1), "spec %q in the %s fixture's report; its output:\n%s", text, r.mode, r.console)
	return found[0]
}

// setup returns process 1's SynchronizedBeforeSuite report: where
// pgginkgo.Suite starts the cluster and builds the templates.
func (r *fixtureRun) setup() types.SpecReport {
	GinkgoHelper()
	for _, s := range r.report.SpecReports {
		if s.LeafNodeType == types.NodeTypeSynchronizedBeforeSuite && s.ParallelProcess == 1 {
			return s
		}
	}
	Fail("no SynchronizedBeforeSuite on process 1 in the " + r.mode + " fixture's report")
	return types.SpecReport{}
}

// suiteEnd returns process 1's SynchronizedAfterSuite report: where
// pgginkgo.Suite lists the kept databases and stops the cluster.
func (r *fixtureRun) suiteEnd() types.SpecReport {
	GinkgoHelper()
	for _, s := range r.report.SpecReports {
		if s.LeafNodeType == types.NodeTypeSynchronizedAfterSuite && s.ParallelProcess == 1 {
			return s
		}
	}
	Fail("no SynchronizedAfterSuite on process 1 in the " + r.mode + " fixture's report")
	return types.SpecReport{}
}

// entries returns the values of the report entries called name, across
// every node of the run.
func (r *fixtureRun) entries(name string) []string {
	var values []string
	for _, s := range r.report.SpecReports {
		values = append(values, entriesOf(s, name)...)
	}
	return values
}

func entriesOf(s types.SpecReport, name string) []string {
	var values []string
	for _, e := range s.ReportEntries {
		if e.Name == name {
			values = append(values, e.StringRepresentation())
		}
	}
	return values
}

// entry returns the value of the one report entry called name in s.
func entry(s types.SpecReport, name string) string {
	GinkgoHelper()
	values := entriesOf(s, name)
	Expect(values).To(HaveLen(1), "report entry %q of spec %q", name, s.LeafNodeText)
	return values[0]
}

// file returns what the fixture's ReportAfterEach wrote about a spec, or
// "" when it wrote nothing.
func (r *fixtureRun) file(kind, specText string) string {
	data, err := os.ReadFile(filepath.Join(r.out, kind+"-"+slug(specText)+".txt"))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	Expect(err).NotTo(HaveOccurred())
	return string(data)
}

// slug is the fixture's rule for naming its files after specs, which is
// also pgginkgo's for its dump files.
var slug = specslug.Of

// clustersStarted lists the cluster directories the run logged, from
// pgginkgo's "cluster started" line in the captured GinkgoWriter output.
func (r *fixtureRun) clustersStarted() []string {
	var dirs []string
	for _, s := range r.report.SpecReports {
		for _, m := range clusterStarted.FindAllStringSubmatch(s.CapturedGinkgoWriterOutput, -1) {
			dirs = append(dirs, m[1])
		}
	}
	return dirs
}

var clusterStarted = regexp.MustCompile(`msg="cluster started" .*?\bdir=(\S+)`)

// expectNothingLeft checks that every cluster the run started is gone: its
// directory removed and no process still working in it (every postgres
// process of a cluster runs in its data directory). The run's own log names
// its directories; diffing the whole runtime directory instead would trip
// over the other suites that run on this machine at the same time.
func (r *fixtureRun) expectNothingLeft() {
	GinkgoHelper()
	for _, dir := range r.clustersStarted() {
		Expect(filepath.Base(filepath.Dir(dir))).To(MatchRegexp(`^pgginkgo-\d+$`), "clusters live under the runtime directory")
		Eventually(func() []string { return processesIn(dir) }).WithTimeout(10*time.Second).Should(BeEmpty(),
			"processes of the %s fixture's cluster %s outlived the run", r.mode, dir)
		Eventually(dir).WithTimeout(10*time.Second).ShouldNot(BeAnExistingFile(),
			"the %s fixture left its cluster directory behind", r.mode)
	}
}

// processesIn lists the processes whose working directory is dir or below
// it, as "pid command".
func processesIn(dir string) []string {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var found []string
	for _, p := range procs {
		cwd, err := os.Readlink(filepath.Join(p, "cwd"))
		if err != nil || (cwd != dir && !strings.HasPrefix(cwd, dir+"/")) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(p, "cmdline"))
		found = append(found, filepath.Base(p)+" "+strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	return found
}

// fixtureCLI returns the ginkgo CLI that pgginkgo's own tests drive:
// GINKGO_CLI if set, else one of the version in go.mod, built once for the
// machine. The command that says which lives in pgginkgo/internal, which
// this package cannot import, so it is run.
var fixtureCLI = func() func() string {
	var path string
	return func() string {
		GinkgoHelper()
		if path == "" {
			cmd := exec.Command("go", "run", "github.com/pgginkgo/pgginkgo/pgginkgo/internal/cmd/ginkgocli")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			Expect(err).NotTo(HaveOccurred(), "finding the ginkgo CLI: %s", stderr.String())
			path = strings.TrimSpace(string(out))
		}
		return path
	}
}()
