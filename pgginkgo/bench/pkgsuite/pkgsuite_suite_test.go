package pkgsuite_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgpassfile"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb opens
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/peterldowns/pgtestdb"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/bench/internal/workload"
)

var (
	side       = os.Getenv("PGGINKGO_BENCH_PKG_SIDE")
	migrations = os.Getenv("PGGINKGO_BENCH_PKG_MIGRATIONS")
	specCount  = envInt("PGGINKGO_BENCH_PKG_SPECS", 20)
)

func TestPackage(t *testing.T) {
	if side == "" {
		t.Skip("run by the benchmarks in pgginkgo/bench, which set PGGINKGO_BENCH_PKG_SIDE")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "bench package ("+side+")")
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			panic(fmt.Sprintf("%s=%q: %v", name, v, err))
		}
		return n
	}
	return def
}

// markFirstSpec writes the time the first spec body of this package
// started to PGGINKGO_BENCH_PKG_FIRST_SPEC. O_EXCL keeps the first writer's
// time if several processes share the file.
func markFirstSpec() {
	now := time.Now()
	path := os.Getenv("PGGINKGO_BENCH_PKG_FIRST_SPEC")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return // an earlier spec (or process) wrote it
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%d\n", now.UnixNano())
	Expect(err).NotTo(HaveOccurred())
}

// The two sides, chosen when the tree is built. Both run workload.Run.
var _ = func() bool {
	switch side {
	case "ours":
		ours()
	case "pgtestdb":
		viaPgtestdb()
	case "":
	default:
		panic(fmt.Sprintf("PGGINKGO_BENCH_PKG_SIDE=%q: want ours or pgtestdb", side))
	}
	return true
}()

// ours is what a user of pgginkgo writes: one Suite line and the decorator.
func ours() {
	opts := []pgginkgo.SuiteOption{pgginkgo.Migrations(os.DirFS(migrations)), pgginkgo.BeforeStop(printStats)}
	if path := os.Getenv("PGGINKGO_BENCH_PKG_LOG"); path != "" {
		// Appending keeps every record of every process that shares the file.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			panic(err)
		}
		opts = append(opts, pgginkgo.Logger(slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	}
	pgginkgo.Suite(opts...)
	Describe("ours", decorators.FreshDatabase(), func() {
		for i := range specCount {
			It(fmt.Sprintf("spec %d", i), func(ctx SpecContext) {
				markFirstSpec()
				Expect(workload.Run(ctx, pgginkgo.DB(ctx).SQL(), i)).To(Succeed())
			})
		}
	})
}

// viaPgtestdb is what a user of pgtestdb writes: pgtestdb.New in each spec,
// against the server the bench started. GinkgoT() is Ginkgo's testing.T
// adapter and implements pgtestdb.TB (v0.1.1 asks for that small interface,
// not testing.TB): Cleanup is DeferCleanup, Fatalf fails the spec, Failed
// reads the spec's report, Helper and Logf go to Ginkgo.
func viaPgtestdb() {
	var conf pgtestdb.Config
	migrator := workload.Migrator{Dir: migrations}
	BeforeSuite(func() {
		host, port, user := os.Getenv("PGGINKGO_BENCH_PGTESTDB_HOST"), os.Getenv("PGGINKGO_BENCH_PGTESTDB_PORT"), os.Getenv("PGGINKGO_BENCH_PGTESTDB_USER")
		pf, err := pgpassfile.ReadPassfile(os.Getenv("PGGINKGO_BENCH_PGTESTDB_PASSFILE"))
		Expect(err).NotTo(HaveOccurred())
		password := pf.FindPassword(host, port, "postgres", user)
		Expect(password).NotTo(BeEmpty(), "no password for %s@%s:%s in the passfile", user, host, port)
		conf = pgtestdb.Config{
			DriverName: "pgx",
			Host:       host,
			Port:       port,
			User:       user,
			Password:   password,
			Database:   "postgres",
			Options:    "sslmode=disable",
		}
	})
	Describe("pgtestdb", func() {
		for i := range specCount {
			It(fmt.Sprintf("spec %d", i), func(ctx SpecContext) {
				markFirstSpec()
				db := pgtestdb.New(GinkgoT(), conf, migrator)
				Expect(workload.Run(ctx, db, i)).To(Succeed())
			})
		}
	})
}

// With PGGINKGO_BENCH_PKG_STATS set, each process prints how long its specs
// waited for databases and what its pools did in the background.
func printStats(context.Context, *pgginkgo.Handle) error {
	if os.Getenv("PGGINKGO_BENCH_PKG_STATS") == "" {
		return nil
	}
	st := pgginkgo.ProcessStats()
	p50 := func(ds []time.Duration) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		s := append([]time.Duration(nil), ds...)
		slices.Sort(s)
		return s[len(s)/2]
	}
	fmt.Fprintf(os.Stderr, "process %d: acquires=%d p50=%v max=%v recycles=%d p50=%v replaces=%d clones=%d p50=%v causes=%v\n",
		GinkgoParallelProcess(), len(st.Acquires), p50(st.Acquires), slices.Max(append(st.Acquires, 0)),
		len(st.Recycles), p50(st.Recycles), len(st.Replaces), len(st.Clones), p50(st.Clones), st.Causes)
	return nil
}
