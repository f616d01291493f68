package pgginkgo_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
)

// suiteRuns is how many copies of the example suite start at once: the
// guarantee is that suites side by side on one machine never collide.
const suiteRuns = 8

var _ = Describe("suites started at the same instant", Serial, func() {
	It("all pass, each on a cluster of its own", func(ctx SpecContext) {
		runs := exampleRuns(ctx, suiteRuns)
		runTogether(ctx, runs)

		ports, dirs := map[int]int{}, map[string]int{}
		for i, r := range runs {
			Expect(r.err).NotTo(HaveOccurred(), "run %d failed; its output:\n%s", i, r.tail())
			Expect(r.port).NotTo(BeZero(), "run %d logged no `cluster started ... port=N`; its output:\n%s", i, r.tail())
			Expect(r.passed).To(BeNumerically(">", 0), "run %d ran no spec; its output:\n%s", i, r.tail())
			GinkgoWriter.Printf("run %d: %d specs passed on port %d, cluster directory %s\n", i, r.passed, r.port, r.clusterDir)
			ports[r.port]++
			dirs[r.clusterDir]++
			Expect(r.clusterDir).NotTo(BeADirectory(), "run %d left its cluster directory behind", i)
		}
		Expect(ports).To(HaveLen(suiteRuns), "ports in use: %v", ports)
		Expect(dirs).To(HaveLen(suiteRuns), "cluster directories: %v", dirs)
	}, SpecTimeout(5*time.Minute))
})

// exampleRuns builds the example suite once and prepares n runs of it.
// ginkgo runs a precompiled suite in the binary's directory, so each run
// gets a directory with the binary and the SQL files the example reads by
// relative path.
func exampleRuns(ctx SpecContext, n int) []*exampleRun {
	GinkgoHelper()
	work := GinkgoT().TempDir()
	bin := filepath.Join(work, "ex.test")
	// Tests run in pgginkgo/; the example's package path is relative to
	// the module root.
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, "./examples/suite_test")
	build.Dir = ".."
	out, err := build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "building the example suite:\n%s", out)
	cli := ginkgoCLI()
	runs := make([]*exampleRun, n)
	for i := range runs {
		dir := filepath.Join(work, fmt.Sprintf("run%d", i))
		Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
		for _, sub := range []string{"migrations", "seed"} {
			Expect(os.CopyFS(filepath.Join(dir, sub), os.DirFS(filepath.Join("..", "examples", "suite_test", sub)))).To(Succeed())
		}
		Expect(os.Link(bin, filepath.Join(dir, "ex.test"))).To(Succeed())
		runs[i] = &exampleRun{dir: dir, cli: cli}
	}
	return runs
}

// runTogether starts every example run at the same instant, as a CI
// machine running several packages or jobs would, and waits for them all.
func runTogether(ctx SpecContext, runs []*exampleRun) {
	together(runs, func(r *exampleRun) { r.run(ctx) })
}

// together calls run for every element of runs, each in a goroutine of its
// own, all released at once, and waits for them.
func together[R any](runs []R, run func(R)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer GinkgoRecover()
			<-start
			run(r)
		}()
	}
	close(start)
	wg.Wait()
}

// exampleRun is one ginkgo --procs=2 run of the example suite.
type exampleRun struct {
	dir        string
	cli        string
	env        []string // added to the run's environment
	err        error
	logs       string // every node's GinkgoWriter output, from the JSON report
	output     string
	port       int
	clusterDir string
	passed     int // specs (It nodes) that passed
}

// clusterStarted matches the core's info log line, e.g.
// `msg="cluster started" component=pgginkgo port=43121 dir=/dev/shm/...`.
var (
	clusterStarted = regexp.MustCompile(`msg="cluster started".*`)
	logPort        = regexp.MustCompile(` port=(\d+)`)
	logDir         = regexp.MustCompile(` dir=(\S+)`)
)

func (r *exampleRun) run(ctx SpecContext) {
	report := filepath.Join(r.dir, "report.json")
	cmd := exec.CommandContext(ctx, r.cli, "--procs=2", "--no-color", "--json-report="+report, filepath.Join(r.dir, "ex.test"))
	cmd.Dir = r.dir
	// The core logs each step at info level into GinkgoWriter, which the
	// JSON report keeps for every node, passed or not.
	cmd.Env = append(append(os.Environ(), "PGGINKGO_LOG_LEVEL=info"), r.env...)
	out, err := cmd.CombinedOutput()
	r.output, r.err = string(out), err
	if err != nil {
		return
	}
	data, err := os.ReadFile(report)
	if err != nil {
		r.err = err
		return
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		r.err = fmt.Errorf("reading %s: %w", report, err)
		return
	}
	for _, rep := range reports {
		for _, spec := range rep.SpecReports {
			if spec.LeafNodeType == types.NodeTypeIt && spec.State == types.SpecStatePassed {
				r.passed++
			}
			r.logs += spec.CapturedGinkgoWriterOutput
			line := clusterStarted.FindString(spec.CapturedGinkgoWriterOutput)
			if m := logPort.FindStringSubmatch(line); m != nil {
				r.port, _ = strconv.Atoi(m[1])
			}
			if m := logDir.FindStringSubmatch(line); m != nil {
				r.clusterDir = m[1]
			}
		}
	}
}

// tail is the end of the run's output, enough to see why it failed.
func (r *exampleRun) tail() string {
	lines := strings.Split(r.output, "\n")
	return strings.Join(lines[max(0, len(lines)-60):], "\n")
}
