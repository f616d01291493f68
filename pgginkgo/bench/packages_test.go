package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/bench/internal/workload"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/ginkgocli"
)

// The package benchmarks run the test binary of ./pkgsuite as whole
// packages, the way a repository's `ginkgo -p ./...` or `go test ./...`
// does: every package is its own process, and on our side boots its own
// cluster. Ours uses pgginkgo.Suite and decorators.FreshDatabase with a warm
// cache; pgtestdb (the real module, v0.1.1) uses a dedicated server that
// this spec starts and keeps for all its runs, with its templates warm.
const (
	multiPackages   = 3
	multiSpecs      = 20
	singleSpecs     = 200
	wallRuns        = 3 // per side and figure; the median is printed
	fixedCostRuns   = 7
	fixedCostSpecs  = 5
	coldPackages    = 4
	coldSpecs       = 20
	imageBuiltEntry = `msg="image built"`
)

// packageResults are printed after the other lines, in this order.
var packageResults []string

var _ = Describe("packages", Ordered, func() {
	var (
		root      string // world-traversable work directory
		suiteBin  string // the pkgsuite test binary
		cli       string // the ginkgo CLI
		large     string // 250 migrations
		small     string // 10 migrations
		warmCache string // PGGINKGO_CACHE_DIR of the warm runs
		server    *pgginkgo.Handle
	)

	BeforeAll(func(ctx SpecContext) {
		var err error
		root, err = os.MkdirTemp("", "pgginkgo-bench-pkgs-")
		expectOK(err)
		expectOK(os.Chmod(root, 0o755))
		DeferCleanup(os.RemoveAll, root)
		suiteBin = pkgsuiteBinary(ctx, root)
		cli, err = ginkgocli.Path(ctx) // GINKGO_CLI (make bench passes bin/ginkgo), else built once
		expectOK(err)

		large, small = filepath.Join(root, "migrations-large"), filepath.Join(root, "migrations-small")
		for dir, shape := range map[string]workload.Shape{large: workload.Large, small: workload.Small} {
			expectOK(os.Mkdir(dir, 0o755))
			expectOK(workload.Write(dir, shape))
		}
		warmCache = mkdir(root, "cache-warm")

		// pgtestdb's server: pgginkgo.Start, i.e. the same PostgreSQL
		// binaries, a data directory under /dev/shm (RAM-backed) and the
		// same tuned settings (pgginkgo.DefaultSettings()) as our clusters.
		// It is a plain postgres that pgtestdb reaches over TCP as the
		// superuser, with the password from the Handle's passfile; nothing
		// of pgginkgo's own machinery (templates, pools) is used on it.
		log := slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelInfo}))
		g, h, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv(), pgginkgo.Logger(log))
		expectOK(err)
		DeferCleanup(g.Stop)
		server = h
	})

	// env is the environment of one package run.
	env := func(side, migrations string, specs int, extra ...string) []string {
		e := append(os.Environ(),
			"PGGINKGO_BENCH_PKG_SIDE="+side,
			"PGGINKGO_BENCH_PKG_MIGRATIONS="+migrations,
			"PGGINKGO_BENCH_PKG_SPECS="+strconv.Itoa(specs),
			"PGGINKGO_CACHE_DIR="+warmCache,
			"PGGINKGO_BENCH_PGTESTDB_HOST="+server.Host,
			"PGGINKGO_BENCH_PGTESTDB_PORT="+strconv.Itoa(server.Port),
			"PGGINKGO_BENCH_PGTESTDB_USER="+server.User,
			"PGGINKGO_BENCH_PGTESTDB_PASSFILE="+server.PassFile,
		)
		return append(e, extra...)
	}

	// ginkgoRun runs `ginkgo -p bin...` (the packages one after another,
	// each with -p) and returns its wall time. Every package must have run
	// and passed all of its specs, as its JSON report says.
	ginkgoRun := func(ctx context.Context, e []string, specs int, bins ...string) time.Duration {
		report := filepath.Join(root, "report.json")
		_ = os.Remove(report)
		args := append([]string{"-p", "--no-color", "--json-report=" + report}, bins...)
		cmd := exec.CommandContext(ctx, cli, args...)
		cmd.Dir, cmd.Env = root, e
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		began := time.Now()
		err := cmd.Run()
		took := time.Since(began)
		if err != nil {
			Fail(fmt.Sprintf("%s %s: %v\n%s", cli, strings.Join(args, " "), err, tail(out.String())))
		}
		data, err := os.ReadFile(report)
		expectOK(err)
		var reports []types.Report
		expectOK(json.Unmarshal(data, &reports))
		Expect(reports).To(HaveLen(len(bins)), "one report per package:\n%s", tail(out.String()))
		for _, r := range reports {
			passed := 0
			for _, sr := range r.SpecReports {
				if sr.LeafNodeType == types.NodeTypeIt && sr.State == types.SpecStatePassed {
					passed++
				}
			}
			Expect(passed).To(Equal(specs), "package %s passed %d of %d specs:\n%s", r.SuitePath, passed, specs, tail(out.String()))
		}
		return took
	}

	It("runs whole packages warm: 3 packages x 20 specs, 1 package x 200 specs", func(ctx SpecContext) {
		bins := packageBinaries(suiteBin, root, "warm", multiPackages)
		// Warm both sides: our image (and initdb cache), pgtestdb's role
		// and template. Neither run is counted.
		ginkgoRun(ctx, env("ours", large, multiSpecs), multiSpecs, bins[0])
		ginkgoRun(ctx, env("pgtestdb", large, multiSpecs), multiSpecs, bins[0])

		var multiOurs, multiTheirs, singleOurs, singleTheirs []time.Duration
		for range wallRuns {
			// Alternate the sides so that a change in the machine's load
			// does not favour one.
			multiOurs = append(multiOurs, ginkgoRun(ctx, env("ours", large, multiSpecs), multiSpecs, bins...))
			multiTheirs = append(multiTheirs, ginkgoRun(ctx, env("pgtestdb", large, multiSpecs), multiSpecs, bins...))
			singleOurs = append(singleOurs, ginkgoRun(ctx, env("ours", large, singleSpecs), singleSpecs, bins[0]))
			singleTheirs = append(singleTheirs, ginkgoRun(ctx, env("pgtestdb", large, singleSpecs), singleSpecs, bins[0]))
		}
		packageResults = append(packageResults,
			secondsLine("multi-package warm", percentile(multiOurs, 0.5), percentile(multiTheirs, 0.5)),
			secondsLine("single-package warm", percentile(singleOurs, 0.5), percentile(singleTheirs, 0.5)),
			fmt.Sprintf("package runs: ginkgo -p (%d procs per package) on precompiled binaries, median of %d runs per side; schema %d migrations, %d tables; "+
				"multi ours=%s pgtestdb=%s; single ours=%s pgtestdb=%s",
				ginkgoProcs(), wallRuns, workload.Large.Files, workload.Large.Tables,
				secondsList(multiOurs), secondsList(multiTheirs), secondsList(singleOurs), secondsList(singleTheirs)),
		)
	})

	It("measures a package's fixed cost warm, at 10 and 250 migrations", func(ctx SpecContext) {
		bin := packageBinaries(suiteBin, root, "fixed", 1)[0]
		p50 := map[string]time.Duration{}
		for _, migrations := range []string{small, large} {
			var costs []time.Duration
			for run := range fixedCostRuns + 1 { // run 0 warms the image
				mark := filepath.Join(root, fmt.Sprintf("first-spec-%d", run))
				_ = os.Remove(mark)
				// The test binary itself, as go test runs a package: one
				// process, from exec to the first spec's body.
				cmd := exec.CommandContext(ctx, bin, "-ginkgo.no-color")
				cmd.Dir = filepath.Dir(bin)
				cmd.Env = env("ours", migrations, fixedCostSpecs, "PGGINKGO_BENCH_PKG_FIRST_SPEC="+mark)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				began := time.Now()
				if err := cmd.Run(); err != nil {
					Fail(fmt.Sprintf("%s: %v\n%s", bin, err, tail(out.String())))
				}
				data, err := os.ReadFile(mark)
				expectOK(err)
				ns, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
				expectOK(err)
				if run > 0 {
					costs = append(costs, time.Unix(0, ns).Sub(began))
				}
			}
			p50[migrations] = percentile(costs, 0.5)
		}
		packageResults = append(packageResults, fmt.Sprintf("package fixed cost warm: p50=%.1f at %d migrations, p50=%.1f at %d migrations",
			ms(p50[small]), workload.Small.Files, ms(p50[large]), workload.Large.Files))
	})

	It("starts 4 packages at once on an empty cache", func(ctx SpecContext) {
		bins := packageBinaries(suiteBin, root, "cold", coldPackages)
		cache := mkdir(root, "cache-cold")
		logs := mkdir(root, "cold-logs")
		type run struct {
			cmd *exec.Cmd
			out bytes.Buffer
			log string
			err error
		}
		runs := make([]*run, len(bins))
		for i, bin := range bins {
			r := &run{log: filepath.Join(logs, fmt.Sprintf("package-%d.log", i+1))}
			r.cmd = exec.CommandContext(ctx, bin, "-ginkgo.no-color")
			r.cmd.Dir = filepath.Dir(bin)
			r.cmd.Env = append(env("ours", large, coldSpecs), "PGGINKGO_CACHE_DIR="+cache, "PGGINKGO_BENCH_PKG_LOG="+r.log)
			r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
			runs[i] = r
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, r := range runs {
			wg.Go(func() {
				<-start
				r.err = r.cmd.Run()
			})
		}
		close(start)
		wg.Wait()

		builds, passed := 0, 0
		for i, r := range runs {
			data, err := os.ReadFile(r.log)
			if err != nil && !os.IsNotExist(err) {
				expectOK(err)
			}
			builds += strings.Count(string(data), imageBuiltEntry)
			if r.err == nil {
				passed++
			} else {
				GinkgoWriter.Printf("cold package %d failed: %v\n%s\n", i+1, r.err, tail(r.out.String()))
			}
		}
		packageResults = append(packageResults, fmt.Sprintf("cold, %d packages started at once: image builds=%d passed=%d/%d",
			coldPackages, builds, passed, coldPackages))
	})

	It("runs 1 package x 200 specs warm on the same existing server", func(ctx SpecContext) {
		bin := packageBinaries(suiteBin, root, "external", 1)[0]
		packageResults = append(packageResults, externalWarm(ctx, server, root, env, ginkgoRun, bin, large)...)
	})
})

// pkgsuiteBinary is the test binary of ./pkgsuite: the one make bench
// built (PGGINKGO_BENCH_PKGSUITE), else built here, from the package
// directory go test runs in.
func pkgsuiteBinary(ctx context.Context, root string) string {
	if p := os.Getenv("PGGINKGO_BENCH_PKGSUITE"); p != "" {
		return p
	}
	p := filepath.Join(root, "pkgsuite.test")
	out, err := exec.CommandContext(ctx, "go", "test", "-c", "-o", p, "./pkgsuite").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "building ./pkgsuite (or set PGGINKGO_BENCH_PKGSUITE):\n%s", out)
	return p
}

// packageBinaries makes n package directories under root/group, each with
// its own copy of the suite binary (pkgN/pkgN.test), and returns the
// binaries' paths.
func packageBinaries(bin, root, group string, n int) []string {
	var out []string
	for i := range n {
		name := fmt.Sprintf("pkg%d", i+1)
		dir := filepath.Join(root, group, name)
		expectOK(os.MkdirAll(dir, 0o755))
		p := filepath.Join(dir, name+".test")
		if err := os.Link(bin, p); err != nil {
			// Another owner's binary (make bench builds it as root) cannot
			// be hard-linked under protected_hardlinks: copy it.
			expectOK(copyFile(bin, p))
		}
		out = append(out, p)
	}
	return out
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// mkdir makes a directory anyone can traverse under root.
func mkdir(root, name string) string {
	dir := filepath.Join(root, name)
	expectOK(os.Mkdir(dir, 0o755))
	return dir
}

// ginkgoProcs is what -p picks on this machine (ginkgo's ComputedProcs).
func ginkgoProcs() int {
	n := runtime.GOMAXPROCS(0)
	if n > 4 {
		n--
	}
	return n
}

func secondsLine(label string, ours, theirs time.Duration) string {
	return fmt.Sprintf("%s: ours=%.3f pgtestdb=%.3f ratio=%.2f", label, ours.Seconds(), theirs.Seconds(), float64(theirs)/float64(max(ours, time.Nanosecond)))
}

func secondsList(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = fmt.Sprintf("%.3f", d.Seconds())
	}
	return "[" + strings.Join(s, " ") + "]"
}

// tail is the end of a command's output, enough to see why it failed.
func tail(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-80):], "\n")
}
