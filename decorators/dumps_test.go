package decorators_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// These specs run the fixture's "dumps" mode, whose failing specs each
// insert a row first: a plain spec, one with KeepNever, the second spec of
// an Ordered container, and a spec that fails both of its FlakeAttempts.
var _ = Describe("a failing suite's database dumps", Serial, func() {
	const dumpEntry = "pgginkgo database dump"
	failing := []string{"inserts a row and fails", "inserts a row and fails with KeepNever", "fails in the next spec", "fails on both attempts"}

	It("are SQL files in --output-dir, one per failed attempt, that psql restores into an empty database", func(ctx SpecContext) {
		run := runFixture(ctx, "dumps", 2)
		Expect(run.exit).To(Equal(1))
		dir := filepath.Join(run.out, "testdata_fixture_pgginkgo-failures")
		Expect(filepath.Glob(filepath.Join(dir, "*"))).To(HaveLen(5), "four failed specs, one of them twice")

		for _, text := range failing {
			s := run.spec(text)
			Expect(s.State).To(Equal(types.SpecStateFailed), text)
			dumps, rows := entriesOf(s, dumpEntry), entriesOf(s, "fixture row")
			Expect(dumps).To(HaveLen(s.NumAttempts), "%s: one dump per attempt", text)
			for i, e := range dumps {
				path := dumpPath(e)
				Expect(path).To(HavePrefix(dir+"/"), "in the output directory, as <suite>_pgginkgo-failures")
				Expect(e).To(ContainSubstring("restore it into an empty database with:\n  psql -X -v ON_ERROR_STOP=1 -d EMPTY_DATABASE -f '" + path + "'"))
				Expect(run.console).To(ContainSubstring(path), "the failure output names the file")
				attempt := ""
				if i > 0 {
					attempt = fmt.Sprintf("-attempt%d", i+1)
				}
				Expect(filepath.Base(path)).To(MatchRegexp(`^%s%s-\d+\.sql$`, slug(s.FullText()), attempt))
				Expect(restore(ctx, path)).To(Equal([]string{rows[i]}), "%s: the restored database holds the row the spec wrote", text)
			}
		}
		never := run.spec("inserts a row and fails with KeepNever")
		Expect(entriesOf(never, "pgginkgo database kept")).To(BeEmpty(), "dumped, though not kept")
		Expect(entriesOf(run.spec("inserts a row and passes"), dumpEntry)).To(BeEmpty(), "only failed specs are dumped")

		summary := entry(run.suiteEnd(), "pgginkgo failure dumps")
		Expect(summary).To(HavePrefix("5 failed spec database(s) dumped:\n"))
		Expect(summary).To(ContainSubstring("\n  inserts a row and fails with KeepNever\n    " + dir + "/inserts-a-row-and-fails-with-keepnever-"))
		Expect(summary).NotTo(ContainSubstring("left out"))
	}, SpecTimeout(3*time.Minute))

	It("stop at FailureDumps, go beside the suite in place of the previous run's, and PGGINKGO_HOLD lists the kept databases while it holds", func(ctx SpecContext) {
		dir, err := filepath.Abs(filepath.Join(fixtureDir, "pgginkgo-failures"))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
		DeferCleanup(os.RemoveAll, dir)
		stale, notes := filepath.Join(dir, "a-previous-run-7.sql"), filepath.Join(dir, "notes.txt")
		Expect(os.WriteFile(stale, []byte("-- an earlier run's dump\n"), 0o644)).To(Succeed())
		Expect(os.WriteFile(notes, []byte("the user's own file\n"), 0o644)).To(Succeed())

		hold := &holdWatcher{}
		run := runFixtureWith(ctx, fixtureOptions{besideSuite: true, console: hold}, "dumps", 2, "FIXTURE_DUMPS=2", "PGGINKGO_HOLD=6s")
		ended := time.Now()
		Expect(run.exit).To(Equal(1))

		Expect(stale).NotTo(BeAnExistingFile(), "process 1 removed the previous run's dumps")
		Expect(notes).To(BeAnExistingFile(), "and nothing else")
		Expect(filepath.Glob(filepath.Join(dir, "*.sql"))).To(HaveLen(2), "FailureDumps(2)")

		var dumped, leftOut []string
		for _, text := range failing {
			s := run.spec(text)
			for _, e := range entriesOf(s, dumpEntry) {
				if strings.Contains(e, " is dumped to\n") {
					dumped = append(dumped, dumpPath(e))
					continue
				}
				Expect(e).To(MatchRegexp(`^database pgg_\w+ was not dumped: this run reached its cap of 2 dump\(s\); raise it with pgginkgo.FailureDumps\(n\)$`))
				Expect(s.CapturedGinkgoWriterOutput).To(ContainSubstring(`msg="a failed spec's database was not dumped: the run reached its cap; raise it with pgginkgo.FailureDumps(n)"`),
					"%s: the log says so too", text)
				leftOut = append(leftOut, s.FullText())
			}
		}
		Expect(dumped).To(HaveLen(2))
		for _, path := range dumped {
			Expect(filepath.Dir(path)).To(Equal(dir), "beside the suite, without --output-dir")
		}
		Expect(leftOut).To(HaveLen(3))
		summary := entry(run.suiteEnd(), "pgginkgo failure dumps")
		Expect(summary).To(HavePrefix("2 failed spec database(s) dumped:\n"))
		Expect(summary).To(ContainSubstring("\n3 failed spec(s) left out: the cap is 2 dump(s) per run; raise it with pgginkgo.FailureDumps(n):\n"))
		for _, text := range leftOut {
			Expect(summary+"\n").To(ContainSubstring("\n  "+text+"\n"), "the summary names each spec left out")
		}

		// The kept list and the hold message reached the console while
		// the cluster was held, not when the run ended.
		seen, console, psql := hold.result()
		Expect(seen).NotTo(BeZero(), "the hold message never reached the console:\n%s", run.console)
		Expect(ended.Sub(seen)).To(BeNumerically(">", 4*time.Second), "the hold message came only at the end")
		list := strings.Index(console, "pgginkgo: 4 database(s) kept:\n")
		Expect(list).To(BeNumerically(">=", 0), "no kept list on the console:\n%s", console)
		Expect(list).To(BeNumerically("<", strings.Index(console, "pgginkgo: holding the cluster for 6s")), "the kept list comes before the hold message")
		Expect(console[list:]).To(ContainSubstring("(failed): inserts a row and fails\n    psql '"))
		Expect(psql).To(Equal("1\n"), "a kept database's psql command worked during the hold")
	}, SpecTimeout(3*time.Minute))
})

var dumpPathIn = regexp.MustCompile(`is dumped to\n  (/\S+\.sql)\n`)

// dumpPath is the file a "pgginkgo database dump" entry names.
func dumpPath(entry string) string {
	GinkgoHelper()
	m := dumpPathIn.FindStringSubmatch(entry)
	Expect(m).To(HaveLen(2), "no dump file in %q", entry)
	return m[1]
}

var restores atomic.Int64

// restore does what the report says, in this suite's own cluster: psql -f
// into a new, empty database, as a role that owns it and is no superuser,
// stopping at the first error. It returns the restored accounts' emails,
// and checks that none of pgginkgo's change tracking came along.
func restore(ctx SpecContext, path string) []string {
	GinkgoHelper()
	h := pgginkgo.Cluster()
	name := fmt.Sprintf("restored_p%d_%d", GinkgoParallelProcess(), restores.Add(1))
	admin, err := h.OpenPool(ctx, "postgres")
	Expect(err).NotTo(HaveOccurred())
	defer admin.Close()
	_, err = admin.Exec(ctx, "CREATE ROLE "+name+" NOLOGIN")
	Expect(err).NotTo(HaveOccurred())
	_, err = admin.Exec(ctx, "CREATE DATABASE "+name+" OWNER "+name)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) {
		admin, err := h.OpenPool(ctx, "postgres")
		Expect(err).NotTo(HaveOccurred())
		defer admin.Close()
		_, err = admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
		Expect(err).NotTo(HaveOccurred())
		_, err = admin.Exec(ctx, "DROP ROLE "+name)
		Expect(err).NotTo(HaveOccurred())
	})

	psql, err := h.ClientTool(ctx, "psql")
	Expect(err).NotTo(HaveOccurred())
	out, err := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-d", h.URL(name), "-c", "SET ROLE "+name, "-f", path).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "restoring %s:\n%s", path, out)

	conn, err := pgx.ConnectConfig(ctx, must(h.ConnConfig(name)))
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.WithoutCancel(ctx))
	var owner string
	var tracking int
	Expect(conn.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE tablename = 'accounts'`).Scan(&owner)).To(Succeed())
	Expect(owner).To(Equal(name), "the restoring role owns what it restored")
	Expect(conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'pgginkgo')
		+ (SELECT count(*) FROM pg_event_trigger) + (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgginkgo%')`).Scan(&tracking)).To(Succeed())
	Expect(tracking).To(BeZero(), "no change tracking in the dump")
	rows, err := conn.Query(ctx, "SELECT email FROM accounts ORDER BY id")
	Expect(err).NotTo(HaveOccurred())
	emails, err := pgx.CollectRows(rows, pgx.RowTo[string])
	Expect(err).NotTo(HaveOccurred())
	return emails
}

func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}

// holdWatcher reads the fixture's console as the CLI writes it. When the
// PGGINKGO_HOLD message appears, it notes the time and runs the first kept
// database's psql command, as a user would while the cluster is held.
type holdWatcher struct {
	mu      sync.Mutex
	console bytes.Buffer
	seen    time.Time
	psql    string
}

var keptPsql = regexp.MustCompile(`database\(s\) kept:\n[^\n]*\n    psql '([^']+)'`)

func (w *holdWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.console.Write(p)
	if !w.seen.IsZero() || !strings.Contains(w.console.String(), "pgginkgo: holding the cluster for 6s (PGGINKGO_HOLD)") {
		return len(p), nil
	}
	w.seen = time.Now()
	if m := keptPsql.FindStringSubmatch(w.console.String()); m != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		psql, err := pgginkgo.Cluster().ClientTool(ctx, "psql")
		if err != nil {
			w.psql = err.Error()
			return len(p), nil
		}
		out, err := exec.CommandContext(ctx, psql, "-XAtc", "select 1", m[1]).CombinedOutput()
		w.psql = string(out)
		if err != nil {
			w.psql += err.Error()
		}
	}
	return len(p), nil
}

// result returns when the hold message appeared, the console, and what
// psql said.
func (w *holdWatcher) result() (time.Time, string, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen, w.console.String(), w.psql
}
