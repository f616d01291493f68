package pgginkgo_test

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

var _ = Describe("Start with bad input", func() {
	// Each case must fail before anything is left behind.
	AfterEach(func() {
		Expect(clustersOfThisProcess()).To(BeEmpty(), "a failed Start left a cluster directory behind")
		_, set := os.LookupEnv("PGGINKGO_PROBE")
		Expect(set).To(BeFalse())
	})

	DescribeTable("fails with an error that says what is wrong and how to fix it",
		func(ctx SpecContext, opts []pgginkgo.ClusterOption, want ...string) {
			g, _, err := pgginkgo.Start(ctx, append(opts, pgginkgo.WithoutEnv())...)
			if g != nil {
				g.Stop()
			}
			Expect(err).To(HaveOccurred())
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
		},
		Entry("a binaries path that does not exist",
			[]pgginkgo.ClusterOption{pgginkgo.BinariesPath("/nonexistent/pg")}, "/nonexistent/pg"),
		Entry("an unsupported version string",
			[]pgginkgo.ClusterOption{pgginkgo.Version("banana")}, `"banana"`),
		Entry("an invalid setting name",
			[]pgginkgo.ClusterOption{pgginkgo.Setting("bad name", "1")}, `Setting("bad name"): not a PostgreSQL parameter name`),
		Entry("a setting pgginkgo manages",
			[]pgginkgo.ClusterOption{pgginkgo.Setting("port", "1")}, `Setting("port"): pgginkgo manages this one; use Port`),
		Entry("an unwritable cache directory",
			[]pgginkgo.ClusterOption{pgginkgo.CacheDir("/proc/pgginkgo-cache")}, "/proc/pgginkgo-cache", "pgginkgo.CacheDir"),
		Entry("an unusable runtime directory",
			[]pgginkgo.ClusterOption{pgginkgo.RuntimeDir("/nonexistent-parent/x")}, "/nonexistent-parent", "pgginkgo.RuntimeDir"),
		Entry("a port out of range",
			[]pgginkgo.ClusterOption{pgginkgo.Port(70000)}, "Port(70000) is out of range"),
	)

	// Start takes no suite option (passing one does not compile); Inspect,
	// which sizes a suite's run, reads them and checks them as Suite does.
	DescribeTable("checks the options only a suite takes",
		func(opt pgginkgo.SuiteOption, want string) {
			_, err := pgginkgo.Inspect(opt)
			Expect(err).To(MatchError(HavePrefix("pgginkgo: invalid option: " + want)))
		},
		Entry("a negative cap on failure dumps", pgginkgo.FailureDumps(-1), "FailureDumps(-1): the cap cannot be negative; pass 0 to turn the dumps off"),
		Entry("no database ready", pgginkgo.Prefetch(0), "Prefetch(0): keep at least one database ready"),
		Entry("the zero policy", pgginkgo.Policy{}, "Policy{} is no policy: use one of pgginkgo's values, such as KeepAlways or TerminateLeaks"),
		Entry("a template without a name", pgginkgo.DefineTemplate(""), `DefineTemplate(""): `),
		Entry("a nil option", nil, "an option is nil"),
	)

	It("refuses, at compile time, a suite option given to Start", func(ctx SpecContext) {
		out, err := exec.CommandContext(ctx, "go", "build", "-o", os.DevNull, "./testdata/startmisuse").CombinedOutput()
		Expect(err).To(HaveOccurred(), "it compiled:\n%s", out)
		Expect(string(out)).To(ContainSubstring(`testdata/startmisuse/main.go:15:52: cannot use pgginkgo.Migrations(os.DirFS("migrations")) (value of interface type pgginkgo.SuiteOption) as pgginkgo.ClusterOption value in argument to pgginkgo.Start`))
	})

	It("reports a port that is taken", func(ctx SpecContext) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		_, _, err = pgginkgo.Start(ctx, pgginkgo.WithoutEnv(), pgginkgo.Port(port))
		Expect(err).To(MatchError(ContainSubstring("could not bind")))
	})

	Context("as root", func() {
		BeforeEach(func() {
			if os.Geteuid() != 0 {
				Skip("only root switches to an unprivileged account")
			}
		})
		It("names a missing account and how to fix it", func(ctx SpecContext) {
			_, _, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv(), pgginkgo.RunAs("no-such-account"))
			Expect(err).To(MatchError(ContainSubstring(`account "no-such-account" does not exist`)))
			Expect(err).To(MatchError(ContainSubstring(`pgginkgo.RunAs`)))
		})
		It("refuses root as the account", func(ctx SpecContext) {
			_, _, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv(), pgginkgo.RunAs("root"))
			Expect(err).To(MatchError(ContainSubstring(`RunAs("root") names a root account`)))
		})
		It("explains binaries the account cannot reach", func(ctx SpecContext) {
			dir := GinkgoT().TempDir() // 0700, root's
			Expect(os.Chmod(dir, 0o700)).To(Succeed())
			Expect(os.Symlink("/usr/lib/postgresql/15/bin", filepath.Join(dir, "bin"))).To(Succeed())
			hidden := filepath.Join(dir, "pg")
			Expect(os.MkdirAll(filepath.Join(hidden, "bin"), 0o755)).To(Succeed())
			for _, f := range []string{"postgres", "pg_ctl", "initdb"} {
				Expect(os.Symlink("/usr/lib/postgresql/15/bin/"+f, filepath.Join(hidden, "bin", f))).To(Succeed())
			}
			_, _, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv(), pgginkgo.BinariesPath(hidden))
			Expect(err).To(MatchError(ContainSubstring("which cannot enter")))
		})
	})
})

func runtimeBase() string {
	uid := os.Geteuid()
	if uid == 0 {
		uid = 65534
	}
	for _, root := range []string{"/dev/shm", os.TempDir()} {
		dir := filepath.Join(root, "pgginkgo-"+itoa(uid))
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
	}
	return filepath.Join(os.TempDir(), "pgginkgo-"+itoa(uid))
}

// clustersOfThisProcess lists the cluster directories whose owner is this
// test process; other suites on the machine may be running their own.
func clustersOfThisProcess() []string {
	dirs, _ := filepath.Glob(filepath.Join(runtimeBase(), "c-*"))
	var mine []string
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.json"))
		if err != nil {
			continue
		}
		var owner struct {
			ParentPID int `json:"parentPid"`
		}
		if json.Unmarshal(b, &owner) == nil && owner.ParentPID == os.Getpid() {
			mine = append(mine, d)
		}
	}
	return mine
}

func itoa(i int) string { return strconv.Itoa(i) }
