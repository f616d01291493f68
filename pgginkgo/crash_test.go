package pgginkgo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/agent"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/ginkgocli"
)

// runCrashSuite starts the fixture suite under ginkgo -p in its own process
// group and returns the group id and the cluster it recorded.
func runCrashSuite(ctx SpecContext, flags ...string) (pgid int, h *pgginkgo.Handle, dataDir string) {
	return runCrashSuiteWith(ctx, nil, flags...)
}

// runCrashSuiteWith is runCrashSuite with env added to the fixture's.
func runCrashSuiteWith(ctx SpecContext, env []string, flags ...string) (pgid int, h *pgginkgo.Handle, dataDir string) {
	marker := filepath.Join(GinkgoT().TempDir(), "marker.json")
	args := append([]string{"-p", "--procs=2", "--no-color"}, flags...)
	cmd := exec.Command(ginkgoCLI(), append(args, crashSuiteBinary())...)
	cmd.Env = append(append(os.Environ(), "CRASH_MARKER="+marker), env...)
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

	It("even when the lifecycle helper is killed too, and the next start sweeps the directory and the shared memory", func(ctx SpecContext) {
		// posix puts the dynamic shared memory in /dev/shm, where only the
		// sweep can find what a killed postmaster left.
		pgid, _, dataDir := runCrashSuiteWith(ctx, []string{"CRASH_DSM=posix"})
		pid := postmasterPIDOf(dataDir)
		segments := posixSegmentsOf(pid)
		Expect(segments).NotTo(BeEmpty(), "with posix, the postmaster maps its control segment from /dev/shm")
		shmid := postmasterShmID(dataDir)
		Expect(sysvSegments()).To(HaveKey(shmid))
		owner, err := os.ReadFile(filepath.Join(filepath.Dir(dataDir), "owner.json"))
		Expect(err).NotTo(HaveOccurred())
		var rec struct {
			AgentPID int `json:"agentPid"`
		}
		Expect(json.Unmarshal(owner, &rec)).To(Succeed())

		// Stopped first, so that the helper cannot clean up after the
		// postmaster, and the postmaster killed before Pdeathsig asks it
		// to shut down, which would clean up too.
		Expect(syscall.Kill(rec.AgentPID, syscall.SIGSTOP)).To(Succeed())
		Expect(syscall.Kill(pid, syscall.SIGKILL)).To(Succeed())
		Expect(syscall.Kill(rec.AgentPID, syscall.SIGKILL)).To(Succeed())
		Expect(syscall.Kill(-pgid, syscall.SIGKILL)).To(Succeed())
		Eventually(func() bool { return procAlive(pid) }).WithTimeout(5 * time.Second).Should(BeFalse())
		Expect(filepath.Dir(dataDir)).To(BeADirectory(), "nobody was left to remove it")
		for _, f := range segments {
			Expect(f).To(BeAnExistingFile(), "nobody was left to remove it")
		}
		Expect(sysvSegments()).To(HaveKey(shmid), "nobody was left to remove it")

		g, _, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv())
		Expect(err).NotTo(HaveOccurred())
		defer g.Stop()
		Expect(filepath.Dir(dataDir)).NotTo(BeADirectory(), "the next start sweeps a dead run's cluster")
		for _, f := range segments {
			Expect(f).NotTo(BeAnExistingFile(), "the next start removes the dead cluster's segments from /dev/shm")
		}
		Expect(sysvSegments()).NotTo(HaveKey(shmid), "the next start removes the dead postmaster's System V segment")
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

// crashSuiteBinary and dieSuiteBinary compile their fixture once per
// process, so that timings in the specs (--timeout) measure the run and not
// the build.
var (
	crashSuiteBinary = fixtureBinary("./testdata/crashsuite")
	dieSuiteBinary   = fixtureBinary("./testdata/diesuite")
)

func fixtureBinary(pkg string) func() string {
	var path string
	return func() string {
		if path == "" {
			dir, err := os.MkdirTemp("", "pgginkgo-"+filepath.Base(pkg)+"-")
			Expect(err).NotTo(HaveOccurred())
			p := filepath.Join(dir, filepath.Base(pkg)+".test")
			out, err := exec.Command("go", "test", "-c", "-o", p, pkg).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			path = p
		}
		return path
	}
}

// ginkgoCLI is the ginkgo CLI the tests drive: GINKGO_CLI, else one of
// the version in go.mod, built once for the machine (see ginkgocli).
func ginkgoCLI() string {
	GinkgoHelper()
	path, err := ginkgocli.Path(context.Background())
	Expect(err).NotTo(HaveOccurred())
	return path
}

// dieRun is one run of the diesuite fixture under the ginkgo CLI.
type dieRun struct {
	cmd     *exec.Cmd
	done    chan struct{}
	out     string // --output-dir
	marker  string
	dir     string // the cluster's directory
	dataDir string
	console *syncBuffer
}

// runDieSuite starts the diesuite fixture under the ginkgo CLI in its own
// process group and waits until its first spec has recorded the cluster.
func runDieSuite(flags ...string) *dieRun {
	GinkgoHelper()
	r := &dieRun{out: GinkgoT().TempDir(), done: make(chan struct{}), console: &syncBuffer{}}
	r.marker = filepath.Join(r.out, "marker.json")
	args := append([]string{"--no-color", "--output-dir=" + r.out, "--json-report=report.json"}, flags...)
	r.cmd = exec.Command(ginkgoCLI(), append(args, dieSuiteBinary())...)
	r.cmd.Env = append(os.Environ(), "DIE_MARKER="+r.marker)
	r.cmd.Stdout, r.cmd.Stderr = r.console, r.console
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	Expect(r.cmd.Start()).To(Succeed())
	go func() {
		_ = r.cmd.Wait() // reaps the CLI, even when killed alone
		close(r.done)
	}()
	// The test processes outlive a CLI killed alone.
	DeferCleanup(func() { _ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL) })
	Eventually(r.marker).WithTimeout(3 * time.Minute).Should(BeAnExistingFile())
	// Every process is inside a spec, holding a database, before the test
	// kills anything: one process's first spec could otherwise still be
	// binding its database.
	procs := 1
	for _, f := range flags {
		if n, ok := strings.CutPrefix(f, "--procs="); ok {
			procs, _ = strconv.Atoi(n)
		}
	}
	Eventually(func() []string {
		at, _ := filepath.Glob(r.marker + ".at.*")
		return at
	}).WithTimeout(time.Minute).Should(HaveLen(procs))
	data, err := os.ReadFile(r.marker)
	Expect(err).NotTo(HaveOccurred())
	var rec struct {
		Handle *pgginkgo.Handle `json:"handle"`
	}
	Expect(json.Unmarshal(data, &rec)).To(Succeed())
	r.dir = filepath.Dir(rec.Handle.SocketDir)
	r.dataDir = filepath.Join(r.dir, "data")
	return r
}

var _ = Describe("a postmaster killed mid-suite", Serial, func() {
	It("fails the next spec at once with the cause, ends the run, and leaves nothing behind", func(ctx SpecContext) {
		before := posixSegments()
		r := runDieSuite("-p", "--procs=2")
		pm := postmasterPIDOf(r.dataDir)
		shmid := postmasterShmID(r.dataDir)
		Expect(posixSegmentsOf(pm)).To(BeEmpty(), "dynamic shared memory lives in data/pg_dynshmem (mmap), not in /dev/shm")
		// Its server processes, among them the backends of both test
		// processes' pools.
		procs := append(childrenOf(pm), pm)
		Expect(len(procs)).To(BeNumerically(">", 4))

		Expect(syscall.Kill(pm, syscall.SIGKILL)).To(Succeed())
		// The helper records the death, ends what the postmaster left and
		// keeps the directory, with the log, for the rest of the run.
		exited := filepath.Join(r.dir, "exited.json")
		Eventually(exited).WithTimeout(5 * time.Second).Should(BeAnExistingFile())
		Eventually(func() []int { return alive(procs) }).WithTimeout(5 * time.Second).Should(BeEmpty())
		Eventually(sysvSegments).WithTimeout(5*time.Second).ShouldNot(HaveKey(shmid), "the helper removes the dead postmaster's System V segment")
		var rec struct {
			Status  string   `json:"status"`
			Log     string   `json:"log"`
			LogTail []string `json:"logTail"`
		}
		data, err := os.ReadFile(exited)
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(data, &rec)).To(Succeed())
		Expect(rec.Status).To(Equal("killed by SIGKILL"))
		Expect(rec.Log).To(Equal(filepath.Join(r.dir, "postgres.log")))
		Expect(rec.LogTail).To(ContainElement(ContainSubstring("database system is ready to accept connections")))

		gate := time.Now()
		Expect(os.WriteFile(r.marker+".gate", nil, 0o644)).To(Succeed())
		Eventually(r.done).WithTimeout(time.Minute).Should(BeClosed(), "the run ends")
		Expect(r.cmd.ProcessState.ExitCode()).NotTo(Equal(0))

		var reports []types.Report
		data, err = os.ReadFile(filepath.Join(r.out, "report.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(data, &reports)).To(Succeed())
		Expect(reports).To(HaveLen(1))
		var after int
		for _, s := range reports[0].SpecReports {
			if s.LeafNodeType != types.NodeTypeIt || !s.StartTime.After(gate) {
				continue
			}
			after++
			msg := s.Failure.Message
			Expect(s.State).To(Equal(types.SpecStateFailed), s.LeafNodeText)
			Expect(msg).To(HavePrefix("pgginkgo: the PostgreSQL server of this suite exited unexpectedly (killed by SIGKILL, pid %d", pm))
			Expect(msg).To(ContainSubstring("its log %s ends with:", rec.Log))
			Expect(msg).To(ContainSubstring("database system is ready to accept connections"))
			Expect(s.RunTime).To(BeNumerically("<", time.Second), "the spec fails at once")
		}
		Expect(after).To(BeNumerically(">=", 2), "specs of both processes ran after the kill")
		Expect(r.console.String()).To(ContainSubstring("the PostgreSQL server of this suite exited unexpectedly"))

		Expect(alive(procs)).To(BeEmpty())
		Expect(r.dir).NotTo(BeADirectory(), "the end of the suite removes the cluster directory")
		Expect(leftSegments(before)).To(BeEmpty(), "no dynamic shared memory segment is left in /dev/shm")
	}, SpecTimeout(4*time.Minute))
})

var _ = Describe("the ginkgo CLI killed alone", Serial, func() {
	// Ginkgo's test processes notice about a minute later that their CLI is
	// gone; the lifecycle helper watches the CLI itself.
	DescribeTable("ends every postgres of the run within 5 s", func(ctx SpecContext, flags ...string) {
		r := runDieSuite(flags...)
		pm := postmasterPIDOf(r.dataDir)
		procs := append(childrenOf(pm), pm)
		Expect(syscall.Kill(r.cmd.Process.Pid, syscall.SIGKILL)).To(Succeed())
		killed := time.Now()
		Eventually(func() []int { return alive(procs) }).WithTimeout(5 * time.Second).WithPolling(20 * time.Millisecond).Should(BeEmpty())
		GinkgoWriter.Printf("postgres ended %s after the CLI\n", time.Since(killed))
		Eventually(r.dir).WithTimeout(5 * time.Second).ShouldNot(BeADirectory())
	},
		Entry("under ginkgo -p", SpecTimeout(4*time.Minute), "-p", "--procs=2"),
		Entry("under serial ginkgo", SpecTimeout(4*time.Minute), "--procs=1"),
	)
})

var _ = Describe("a postmaster that dies under Start", func() {
	It("is reported, leaves no process, and keeps its directory until Stop", func(ctx SpecContext) {
		logger, logs := debugLogger()
		g, _, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv(), pgginkgo.Logger(logger))
		Expect(err).NotTo(HaveOccurred())
		defer g.Stop()
		procs := append(childrenOf(g.PostgresPID()), g.PostgresPID())
		Expect(agent.CheckCluster(g.Dir())).To(Succeed())

		Expect(syscall.Kill(g.PostgresPID(), syscall.SIGKILL)).To(Succeed())
		Eventually(func() error { return agent.CheckCluster(g.Dir()) }).WithTimeout(5 * time.Second).Should(MatchError(agent.ErrServerExited))
		Eventually(logs.String).Should(MatchRegexp(`level=ERROR msg="PostgreSQL exited unexpectedly" .*status="killed by SIGKILL"`))
		Eventually(func() []int { return alive(procs) }).WithTimeout(5 * time.Second).Should(BeEmpty())
		Consistently(g.Dir()).WithTimeout(300 * time.Millisecond).Should(BeADirectory())

		Expect(g.Stop()).To(Succeed())
		Expect(g.Dir()).NotTo(BeADirectory())
		Expect(agent.CheckCluster(g.Dir())).To(MatchError(agent.ErrHelperGone))
	}, SpecTimeout(2*time.Minute))
})

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// alive returns the pids that still run.
func alive(pids []int) []int {
	var out []int
	for _, p := range pids {
		if procAlive(p) {
			out = append(out, p)
		}
	}
	return out
}

// postmasterShmID reads the System V segment's id from line 7 of
// postmaster.pid.
func postmasterShmID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	Expect(err).NotTo(HaveOccurred())
	lines := strings.Split(string(b), "\n")
	Expect(len(lines)).To(BeNumerically(">=", 7))
	f := strings.Fields(lines[6])
	Expect(f).To(HaveLen(2))
	id, err := strconv.Atoi(f[1])
	Expect(err).NotTo(HaveOccurred())
	return id
}

// sysvSegments lists the machine's System V shared memory segments by id,
// with the number of processes attached.
func sysvSegments() map[int]int {
	b, err := os.ReadFile("/proc/sysvipc/shm")
	Expect(err).NotTo(HaveOccurred())
	out := map[int]int{}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(l); len(f) > 6 {
			id, _ := strconv.Atoi(f[1])
			out[id], _ = strconv.Atoi(f[6])
		}
	}
	return out
}

// posixSegments lists /dev/shm/PostgreSQL.* files.
func posixSegments() map[string]bool {
	names, _ := filepath.Glob("/dev/shm/PostgreSQL.*")
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// posixSegmentsOf lists the /dev/shm/PostgreSQL.* files pid maps.
func posixSegmentsOf(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if i := strings.Index(l, "/dev/shm/PostgreSQL."); i >= 0 && !slices.Contains(out, l[i:]) {
			out = append(out, l[i:])
		}
	}
	return out
}

// leftSegments lists the /dev/shm/PostgreSQL.* files that were not there
// before and that no live process maps: what a dead cluster left. Other
// clusters on this machine create and map their own meanwhile.
func leftSegments(before map[string]bool) []string {
	var out []string
	for n := range posixSegments() {
		if before[n] {
			continue
		}
		mapped := false
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if b, err := os.ReadFile("/proc/" + e.Name() + "/maps"); err == nil && strings.Contains(string(b), n) {
				mapped = true
				break
			}
		}
		if !mapped {
			out = append(out, n)
		}
	}
	return out
}
