//go:build !windows

package pgginkgo_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/extserver"
)

// createdDatabase matches the server log's record of a CREATE DATABASE
// (log_statement=ddl), and alreadyExists a name that collided.
var (
	createdDatabase = regexp.MustCompile(`statement: CREATE DATABASE "?([a-z0-9_]+)"?`)
	alreadyExists   = regexp.MustCompile(`database "[^"]+" already exists`)
	templateBuilt   = regexp.MustCompile(`msg="template ready" template=(\S+) .*migrated=true`)
)

// Whole runs on the stand-in for an existing server, as CI machines would
// start them: the example suite under ginkgo -p, two at once, one killed.
var _ = Describe("runs on an existing server", Ordered, Serial, Label("external"), func() {
	var (
		srv      *extserver.Server
		conn     *pgx.Conn
		superURL string
		secrets  []string
	)
	BeforeAll(func(ctx SpecContext) {
		srv = startExternal(ctx, map[string]string{"log_statement": "ddl"})
		conn = superConn(ctx, srv)
		superURL = srv.SuperURL()
		_, super := srv.SuperUser()
		secrets = []string{super, appPassword, plainPassword}
	})
	// noSecrets greps a run's whole output for every password it knows.
	noSecrets := func(what string, texts ...string) {
		GinkgoHelper()
		for _, text := range texts {
			for _, s := range secrets {
				Expect(strings.Contains(text, s)).To(BeFalse(), "%s holds a password", what)
			}
		}
	}
	noRunDatabases := func(ctx SpecContext) {
		GinkgoHelper()
		Expect(databasesLike(ctx, conn, `pgg\_%`)).To(BeEmpty(), "every run drops its databases at the end")
	}

	It("pass the example suite, with the templates left on the server", func(ctx SpecContext) {
		r := exampleRuns(ctx, 1)[0]
		r.env = []string{pgginkgo.EnvServerURL + "=" + superURL, "PGGINKGO_LOG_LEVEL=debug"}
		r.run(ctx)
		Expect(r.err).NotTo(HaveOccurred(), r.tail())
		Expect(r.passed).To(BeNumerically(">=", 16))
		Expect(r.logs).To(ContainSubstring(`msg="existing server"`))
		noRunDatabases(ctx)
		Expect(databasesLike(ctx, conn, `pgginkgo\_tpl\_%`)).To(HaveLen(2), "the schema and seeded templates stay")
		report, err := os.ReadFile(filepath.Join(r.dir, "report.json"))
		Expect(err).NotTo(HaveOccurred())
		noSecrets("the run's output and JSON report (debug log level)", r.output, r.logs, string(report))
	})

	It("pass side by side, with each template built once and no name used twice", func(ctx SpecContext) {
		for _, d := range databasesLike(ctx, conn, `pgginkgo\_tpl\_%`) { // so that both runs find none
			_, err := conn.Exec(ctx, "ALTER DATABASE "+d+" IS_TEMPLATE false")
			Expect(err).NotTo(HaveOccurred())
			_, err = conn.Exec(ctx, "DROP DATABASE "+d)
			Expect(err).NotTo(HaveOccurred())
		}
		logStart := fileSize(srv.LogPath())

		runs := exampleRuns(ctx, 2) // as two CI machines would start them
		for _, r := range runs {
			r.env = []string{pgginkgo.EnvServerURL + "=" + superURL}
		}
		runTogether(ctx, runs)

		built := map[string]int{}
		for i, r := range runs {
			Expect(r.err).NotTo(HaveOccurred(), "run %d:\n%s", i, r.tail())
			for _, m := range templateBuilt.FindAllStringSubmatch(r.logs, -1) {
				built[m[1]]++
			}
			noSecrets("a run's output", r.output, r.logs)
		}
		Expect(built).To(Equal(map[string]int{"schema": 1, "seeded": 1}), "one run builds each template, the other reuses it")

		serverLog := readFrom(srv.LogPath(), logStart)
		created := map[string]int{}
		for _, m := range createdDatabase.FindAllStringSubmatch(serverLog, -1) {
			created[m[1]]++
		}
		Expect(len(created)).To(BeNumerically(">", 4), "the server log records the runs' CREATE DATABASE statements")
		for name, n := range created {
			Expect(n).To(Equal(1), "database %s was created %d times", name, n)
		}
		Expect(alreadyExists.FindAllString(serverLog, -1)).To(BeEmpty())
		noRunDatabases(ctx)
	})

	It("pass with a role that may only create databases, in clone mode", func(ctx SpecContext) {
		r := exampleRuns(ctx, 1)[0]
		r.env = []string{pgginkgo.EnvServerURL + "=" + srv.URL("app", appPassword, "postgres")}
		r.run(ctx)
		Expect(r.err).NotTo(HaveOccurred(), r.tail())
		Expect(r.logs).To(ContainSubstring(`msg="clone mode: the role is not a superuser`))
		Expect(r.passed).To(BeNumerically(">=", 14), "all but the two specs that create roles")
		noSecrets("the run's output", r.output, r.logs)
		noRunDatabases(ctx)
	})

	It("sweep a killed run's databases at the next run's start, and leave a live run's alone", func(ctx SpecContext) {
		env := []string{pgginkgo.EnvServerURL + "=" + superURL}
		pgid, killed, _ := runCrashSuiteWith(ctx, env)
		Expect(killed.External).To(BeTrue())
		mine := `pgg\_` + strings.ReplaceAll(killed.RunID, "_", `\_`) + `\_%`
		Eventually(func() []string { return databasesLike(ctx, conn, mine) }).ShouldNot(BeEmpty(), "the run prepares its databases")
		Expect(syscall.Kill(-pgid, syscall.SIGKILL)).To(Succeed())
		leftBehind := databasesLike(ctx, conn, mine)
		GinkgoWriter.Printf("killed run %s left %v\n", killed.RunID, leftBehind)
		Eventually(func() int { return leases(ctx, conn, killed.RunID) }).Should(BeZero(), "the lease ends with the killed run's session")
		Consistently(func() []string { return databasesLike(ctx, conn, mine) }, "300ms").ShouldNot(BeEmpty(), "nothing but a run's start or gc sweeps")

		livePgid, live, _ := runCrashSuiteWith(ctx, env)
		Expect(databasesLike(ctx, conn, mine)).To(BeEmpty(), "the new run's start swept the killed run's databases")
		ours := `pgg\_` + strings.ReplaceAll(live.RunID, "_", `\_`) + `\_%`
		Eventually(func() []string { return databasesLike(ctx, conn, ours) }).ShouldNot(BeEmpty())
		before := databasesLike(ctx, conn, ours)

		// A sweep while the new run is live, as a third machine's start
		// would do, touches nothing of it.
		rep, err := pgginkgo.SweepServer(ctx, superURL, 24*time.Hour, 7*24*time.Hour)
		Expect(err).NotTo(HaveOccurred())
		for _, d := range append(rep.Dropped, rep.Left...) {
			Expect(d.Name).NotTo(HavePrefix("pgg_"+live.RunID), "the sweep touched the live run's %s: %s", d.Name, d.Why)
		}
		Expect(databasesLike(ctx, conn, ours)).To(ContainElements(before))
		Expect(leases(ctx, conn, live.RunID)).To(Equal(1))

		// Killed in turn, it is swept by gc as well.
		Expect(syscall.Kill(-livePgid, syscall.SIGKILL)).To(Succeed())
		Eventually(func() int { return leases(ctx, conn, live.RunID) }).Should(BeZero())
		rep, err = pgginkgo.SweepServer(ctx, superURL, 24*time.Hour, 7*24*time.Hour)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Dropped).To(ContainElement(HaveField("Why", "its run "+live.RunID+" has no lease")))
		noRunDatabases(ctx)
	})

	It("keep a failed spec's database on the server after the run, reachable with the reported psql command, until a sweep past its TTL", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		report := filepath.Join(dir, "report.json")
		// The test binary itself, in the fixture's directory, where its
		// migrations are.
		cmd := exec.CommandContext(ctx, serverSuiteBinary(), "-ginkgo.no-color", "-ginkgo.json-report="+report)
		cmd.Dir = filepath.Join("testdata", "serversuite")
		cmd.Env = append(os.Environ(), pgginkgo.EnvServerURL+"="+srv.URL("app", appPassword, "postgres"),
			"SERVERSUITE_FAIL=1", "PGGINKGO_LOG_LEVEL=debug")
		out, err := cmd.CombinedOutput()
		Expect(err).To(HaveOccurred(), "one spec fails on purpose")
		data, err := os.ReadFile(report)
		Expect(err).NotTo(HaveOccurred())
		noSecrets("the failed run's output and JSON report", string(out), string(data))

		var reports []types.Report
		Expect(json.Unmarshal(data, &reports)).To(Succeed())
		var psql string
		for _, spec := range reports[0].SpecReports {
			for _, e := range spec.ReportEntries {
				if e.Name == "pgginkgo database kept" {
					psql = regexp.MustCompile(`psql '([^']+)'`).FindStringSubmatch(e.Value.String())[1]
				}
			}
		}
		Expect(psql).NotTo(BeEmpty(), "the failed spec's report names its kept database")
		Expect(psql).NotTo(ContainSubstring("passfile"), "the run's passfile goes with the run")
		kept := databasesLike(ctx, conn, `pgg\_%`)
		Expect(kept).To(HaveLen(1), "only the kept database outlives the run")
		Expect(psql).To(ContainSubstring("/" + kept[0] + "?"))

		// The reported command, after the run, with the role's password
		// from where a user keeps it.
		tool, err := binaries.ClientTool(ctx, "", "psql", 15) // the stand-in server is the installed 15
		Expect(err).NotTo(HaveOccurred())
		q := exec.CommandContext(ctx, tool, "-XAtc", "SELECT name FROM items", psql)
		q.Env = append(os.Environ(), "PGPASSWORD="+appPassword)
		rows, err := q.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(rows))
		Expect(strings.TrimSpace(string(rows))).To(Equal("evidence"))

		rep, err := pgginkgo.SweepServer(ctx, superURL, 24*time.Hour, 7*24*time.Hour)
		Expect(err).NotTo(HaveOccurred())
		Expect(databasesLike(ctx, conn, `pgg\_%`)).To(Equal(kept), "younger than the TTL: kept (%v)", rep)
		rep, err = pgginkgo.SweepServer(ctx, superURL, time.Millisecond, 7*24*time.Hour)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Dropped).To(ContainElement(HaveField("Name", kept[0])))
		Expect(databasesLike(ctx, conn, `pgg\_%`)).To(BeEmpty())
	})
})

// serverSuiteBinary compiles the serversuite fixture once per process.
var serverSuiteBinary = fixtureBinary("./testdata/serversuite")

// leases counts the lease sessions of run id.
func leases(ctx context.Context, conn *pgx.Conn, id string) int {
	GinkgoHelper()
	var n int
	Expect(conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1`, "pgginkgo lease "+id+" %").Scan(&n)).To(Succeed())
	return n
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// readFrom reads a file from offset on.
func readFrom(path string, offset int64) string {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return string(data[min(int64(len(data)), offset):])
}
