package pgginkgo_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
)

// runBudgetSuite runs the 200-spec fixture in testdata/budgetsuite under
// `ginkgo --procs=procs` and returns its console, exit code and report.
func runBudgetSuite(ctx SpecContext, procs int, env ...string) (console string, exit int, report types.Report) {
	GinkgoHelper()
	reportPath := filepath.Join(GinkgoT().TempDir(), "report.json")
	cmd := exec.CommandContext(ctx, ginkgoCLI(), "--procs="+strconv.Itoa(procs), "--no-color", "--timeout=8m",
		"--json-report="+reportPath, "./testdata/budgetsuite")
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		exit = exitErr.ExitCode()
	default:
		Fail("running the budget fixture: " + err.Error() + "\n" + out.String())
	}
	data, err := os.ReadFile(reportPath)
	Expect(err).NotTo(HaveOccurred(), "no JSON report; the output:\n%s", out.String())
	var reports []types.Report
	Expect(json.Unmarshal(data, &reports)).To(Succeed())
	Expect(reports).To(HaveLen(1))
	return out.String(), exit, reports[0]
}

func setupOutput(r types.Report) string {
	for _, s := range r.SpecReports {
		if s.LeafNodeType == types.NodeTypeSynchronizedBeforeSuite && s.ParallelProcess == 1 {
			return s.CapturedGinkgoWriterOutput + s.Failure.Message
		}
	}
	return ""
}

var _ = Describe("the connection budget", Serial, func() {
	It("runs 200 specs under -procs=64 without running out of connections", func(ctx SpecContext) {
		console, exit, report := runBudgetSuite(ctx, 64)
		Expect(exit).To(BeZero(), console)
		Expect(report.PreRunStats.SpecsThatWillRun).To(Equal(200))
		passed := 0
		for _, s := range report.SpecReports {
			if s.LeafNodeType == types.NodeTypeIt && s.State == types.SpecStatePassed {
				passed++
			}
		}
		Expect(passed).To(Equal(200))
		Expect(console).NotTo(ContainSubstring("53300"))
		Expect(console).NotTo(ContainSubstring("too many clients"))
		AddReportEntry("64 processes", console[max(0, len(console)-400):])
	}, SpecTimeout(10*time.Minute))

	It("caps an implicit Prefetch to fit an explicit max_connections", func(ctx SpecContext) {
		console, exit, report := runBudgetSuite(ctx, 4, "BUDGET_MAX_CONNECTIONS=70")
		Expect(exit).To(BeZero(), console)
		Expect(setupOutput(report)).To(MatchRegexp(`msg="prefetch capped to fit max_connections" prefetch=2 asked=\d+ processes=4 maxConnections=70`))
	}, SpecTimeout(5*time.Minute))

	It("fails the setup with what the run needs when an explicit max_connections and Prefetch cannot fit", func(ctx SpecContext) {
		console, exit, report := runBudgetSuite(ctx, 4, "BUDGET_MAX_CONNECTIONS=40", "BUDGET_PREFETCH=4")
		Expect(exit).NotTo(BeZero())
		Expect(setupOutput(report)).To(ContainSubstring(`pgginkgo: Setting("max_connections", "40") is too small for this run, which needs 4 process(es) × 19 connections (1 template(s) × Prefetch 4 × 2, + 11) + 10 = 86; raise it to 86, lower Prefetch, or run fewer processes`), console)
	}, SpecTimeout(5*time.Minute))
})
