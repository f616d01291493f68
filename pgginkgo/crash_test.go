package pgginkgo_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// runCrashSuite starts the fixture suite under ginkgo -p in its own process
// group and returns the group id and the cluster it recorded.
func runCrashSuite(ctx SpecContext, flags ...string) (pgid int, h *pgginkgo.Handle, dataDir string) {
	marker := filepath.Join(GinkgoT().TempDir(), "marker.json")
	args := append([]string{"-p", "--procs=2", "--no-color"}, flags...)
	cmd := exec.Command(ginkgoCLI(), append(args, crashSuiteBinary())...)
	cmd.Env = append(os.Environ(), "CRASH_MARKER="+marker)
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	Expect(cmd.Start()).To(Succeed())
	go cmd.Wait() // reap it once killed
	DeferCleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	Eventually(marker).WithTimeout(3 * time.Minute).Should(BeAnExistingFile())
	data, err := os.ReadFile(marker)
	Expect(err).NotTo(HaveOccurred())
	var rec struct {
		Handle *pgginkgo.Handle `json:"handle"`
	}
	Expect(json.Unmarshal(data, &rec)).To(Succeed())
	dataDir = filepath.Join(filepath.Dir(rec.Handle.SocketDir), "data")
	return cmd.Process.Pid, rec.Handle, dataDir
}

var _ = Describe("a suite killed with SIGKILL", Serial, func() {
	It("leaves no postgres running and no directory behind", func(ctx SpecContext) {
		pgid, _, dataDir := runCrashSuite(ctx)
		pid := postmasterPIDOf(dataDir)
		Expect(procAlive(pid)).To(BeTrue())

		// What a cancelled CI job does: SIGKILL to the whole process group,
		// ginkgo and every test process, process 1 included.
		Expect(syscall.Kill(-pgid, syscall.SIGKILL)).To(Succeed())
		Eventually(func() bool { return procAlive(pid) }).WithTimeout(5 * time.Second).Should(BeFalse())
		Eventually(filepath.Dir(dataDir)).WithTimeout(5 * time.Second).ShouldNot(BeADirectory())
	}, SpecTimeout(4*time.Minute))

	It("even when the lifecycle helper is killed too, and the next start sweeps the directory", func(ctx SpecContext) {
		pgid, _, dataDir := runCrashSuite(ctx)
		pid := postmasterPIDOf(dataDir)
		owner, err := os.ReadFile(filepath.Join(filepath.Dir(dataDir), "owner.json"))
		Expect(err).NotTo(HaveOccurred())
		var rec struct {
			AgentPID int `json:"agentPid"`
		}
		Expect(json.Unmarshal(owner, &rec)).To(Succeed())

		Expect(syscall.Kill(rec.AgentPID, syscall.SIGKILL)).To(Succeed())
		Expect(syscall.Kill(-pgid, syscall.SIGKILL)).To(Succeed())
		Eventually(func() bool { return procAlive(pid) }).WithTimeout(5 * time.Second).Should(BeFalse())
		Expect(filepath.Dir(dataDir)).To(BeADirectory(), "nobody was left to remove it")

		g, _, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv())
		Expect(err).NotTo(HaveOccurred())
		defer g.Stop()
		Expect(filepath.Dir(dataDir)).NotTo(BeADirectory(), "the next start sweeps a dead run's cluster")
	}, SpecTimeout(4*time.Minute))
})

var _ = Describe("a suite interrupted by Ginkgo", Serial, func() {
	expectCleanedUp := func(ctx SpecContext, interrupt func(pgid int), flags ...string) {
		pgid, _, dataDir := runCrashSuite(ctx, flags...)
		pid := postmasterPIDOf(dataDir)
		interrupt(pgid)
		Eventually(func() bool { return procAlive(pid) }).WithTimeout(30 * time.Second).Should(BeFalse())
		Eventually(filepath.Dir(dataDir)).WithTimeout(30 * time.Second).ShouldNot(BeADirectory())
	}
	// What Ctrl-C in a terminal does: SIGINT to the foreground group.
	It("stops the cluster and removes its directories on Ctrl-C", func(ctx SpecContext) {
		expectCleanedUp(ctx, func(pgid int) { Expect(syscall.Kill(-pgid, syscall.SIGINT)).To(Succeed()) })
	}, SpecTimeout(4*time.Minute))
	// ginkgo --timeout interrupts the suite from inside when it expires.
	It("stops the cluster and removes its directories when --timeout expires", func(ctx SpecContext) {
		expectCleanedUp(ctx, func(int) {}, "--timeout=15s")
	}, SpecTimeout(4*time.Minute))
})

// crashSuiteBinary compiles the fixture once per process, so that timings
// in the specs (--timeout) measure the run and not the build.
var crashSuiteBinary = func() func() string {
	var path string
	return func() string {
		if path == "" {
			dir, err := os.MkdirTemp("", "pgginkgo-crashsuite-")
			Expect(err).NotTo(HaveOccurred())
			p := filepath.Join(dir, "crashsuite.test")
			out, err := exec.Command("go", "test", "-c", "-o", p, "./testdata/crashsuite").CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			path = p
		}
		return path
	}
}()

// ginkgoCLI builds the ginkgo CLI of the version in go.mod, once per process.
var ginkgoCLI = func() func() string {
	var path string
	return func() string {
		if path != "" {
			return path
		}
		if p := os.Getenv("GINKGO_CLI"); p != "" {
			// Absolute: some tests run it from another directory.
			abs, err := filepath.Abs(p)
			Expect(err).NotTo(HaveOccurred())
			path = abs
			return path
		}
		dir, err := os.MkdirTemp("", "pgginkgo-cli-")
		Expect(err).NotTo(HaveOccurred())
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "ginkgo"), "github.com/onsi/ginkgo/v2/ginkgo").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		path = filepath.Join(dir, "ginkgo")
		return path
	}
}()
