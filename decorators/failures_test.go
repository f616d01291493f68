package decorators_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// These specs run the suite in testdata/fixture, whose specs fail on
// purpose, and check what its user would see. Each fixture run starts a
// cluster of its own, so they are Serial to keep the machine's two cores for
// one run at a time.
var _ = Describe("a failing suite", Serial, func() {
	Describe("keeps a failed spec's database", Ordered, func() {
		var run *fixtureRun
		BeforeAll(func(ctx SpecContext) { run = runFixture(ctx, "keep", 2) }, NodeTimeout(3*time.Minute))

		It("for psql, by the default policy, and lists it at the end", func() {
			Expect(run.exit).To(Equal(1), "the suite fails")
			Expect(run.clustersStarted()).To(HaveLen(1), "one cluster for both processes, checked for leftovers by runFixture")

			failed := run.spec("inserts rows and fails")
			Expect(failed.State).To(Equal(types.SpecStateFailed))
			name := entry(failed, "fixture database")
			kept := entry(failed, "pgginkgo database kept")
			Expect(kept).To(ContainSubstring("database " + name + " (template schema) is kept for inspection"))
			psql := regexp.MustCompile(`psql '[^']*'`).FindString(kept)
			Expect(psql).To(MatchRegexp(`^psql 'postgres://postgres@127\.0\.0\.1:\d+/%s\?passfile=[^']+&sslmode=disable'$`, name))
			Expect(run.console).To(ContainSubstring(psql), "the failure output shows the command too")

			// The fixture pasted the command into a shell while the
			// cluster ran: it opens the failed spec's rows.
			Expect(run.file("psql", failed.LeafNodeText)).To(Equal("3\nkept1@example.com\nkept2@example.com\nkept3@example.com\n"))

			Expect(run.entries("pgginkgo kept databases")).To(HaveLen(1), "listed once, by process 1")
			Expect(entry(run.suiteEnd(), "pgginkgo kept databases")).To(And(
				HavePrefix("2 database(s) kept:\n"),
				ContainSubstring(name+" — (failed): inserts rows and fails\n    "+psql),
			))
		})

		It("not with KeepNever, and even when passing with KeepAlways", func() {
			never := run.spec("inserts rows and fails with KeepNever")
			Expect(never.State).To(Equal(types.SpecStateFailed))
			Expect(entriesOf(never, "pgginkgo database kept")).To(BeEmpty())
			Expect(run.file("psql", never.LeafNodeText)).To(BeEmpty())

			always := run.spec("inserts rows and passes with KeepAlways")
			Expect(always.State).To(Equal(types.SpecStatePassed))

			passed := run.spec("inserts rows and passes")
			Expect(passed.State).To(Equal(types.SpecStatePassed))

			list := entry(run.suiteEnd(), "pgginkgo kept databases")
			Expect(list).To(ContainSubstring(entry(always, "fixture database") + " — (kept by policy): inserts rows and passes with KeepAlways\n    psql '"))
			// Databases are recycled from spec to spec, so a name may come
			// back in a later, kept spec: the list names the spec it kept.
			Expect(list).NotTo(ContainSubstring("): " + never.LeafNodeText + "\n"))
			Expect(list + "\n").NotTo(ContainSubstring("): " + passed.LeafNodeText + "\n"))
		})
	})

	Describe("catches leaked connections", func() {
		It("fails each leaking spec with the kind named, terminates the leaks, and goes on", func(ctx SpecContext) {
			began := time.Now()
			run := runFixture(ctx, "leak", 2)
			Expect(time.Since(began)).To(BeNumerically("<", time.Minute), "no leak holds the run up")
			Expect(run.clustersStarted()).To(HaveLen(1))

			kinds := map[string]string{
				"unclosed rows #0":                 `unclosed rows \(a pool connection still held by unread or unclosed rows: call rows.Close\(\), or defer it\):\n      pid=\d+ application_name="" state=\w+( transaction age=\S+)? last query="SELECT g FROM generate_series\(1, 3\) g"`,
				"unreleased Acquire #1":            `unreleased Acquire \(a connection taken with Pool\(\).Acquire and never released: call conn.Release\(\)\):\n      pid=\d+ application_name="" state=idle last query="SELECT 'acquired and kept'"`,
				"open transaction #2":              `open transaction \(a pool connection still held by a transaction: Commit or Rollback it\):\n      pid=\d+ application_name="" state=idle in transaction transaction age=\S+ last query="INSERT INTO accounts\(email\) VALUES \('tx@leak'\)"`,
				"open transaction #3":              `open transaction \(.*\):\n      pid=\d+ application_name="" state=idle in transaction transaction age=\S+ last query="INSERT INTO accounts\(email\) VALUES \('sql@leak'\)"`,
				"separate client #4":               `separate client \(a connection the spec opened itself: Close it\):\n      pid=\d+ application_name="leaky-client" state=idle last query="SELECT 'left open by the fixture' AS marker"`,
				"session left in a transaction #5": `session left in a transaction \(.*\):\n      pid=\d+ application_name="leaky-tx-client" state=idle in transaction transaction age=\S+ last query="BEGIN; INSERT INTO accounts\(email\) VALUES \('client@leak'\)"`,
			}
			for text, pattern := range kinds {
				leaky := run.spec("leaks: " + text)
				Expect(leaky.State).To(Equal(types.SpecStateFailed), text)
				Expect(leaky.Failure.Message).To(MatchRegexp(`^the spec left 1 connection\(s\) open to its database pgg_\w+:\n  - `+pattern+`\n`), text)
				Expect(leaky.Failure.Message).To(ContainSubstring("pgginkgo.TerminateLeaks"), "says what to do")
				Expect(entriesOf(leaky, "pgginkgo database kept")).To(HaveLen(1), "a spec failed by a leak keeps its database")
				Expect(leaky.RunTime).To(BeNumerically("<", 5*time.Second), "%s: the spec never waits on its leak", text)

				terminated := run.spec("leaks with TerminateLeaks: " + text)
				Expect(terminated.State).To(Equal(types.SpecStatePassed), text)
			}
			for _, text := range []string{"leaks: separate client #4", "leaks with TerminateLeaks: session left in a transaction #5"} {
				Expect(run.file("conn", text)).To(And(HavePrefix("dead: "), ContainSubstring("SQLSTATE 57P01")),
					"the leaked connection is terminated so the database can be reused")
			}

			all := run.spec("leaks every kind at once")
			Expect(all.State).To(Equal(types.SpecStateFailed))
			Expect(all.Failure.Message).To(HavePrefix("the spec left 6 connection(s) open"))
			for _, kind := range []string{"unclosed rows", "unreleased Acquire", "open transaction", "separate client", "session left in a transaction"} {
				Expect(all.Failure.Message).To(ContainSubstring("\n  - "+kind+" ("), "names %s", kind)
			}

			Expect(run.spec("closes its connection").State).To(Equal(types.SpecStatePassed), "a closed client is no leak")
			for i := range 6 {
				Expect(run.spec(fmt.Sprintf("finds a clean database after the leaks #%d", i)).State).To(Equal(types.SpecStatePassed))
			}
		}, SpecTimeout(3*time.Minute))
	})

	Describe("removes the cluster-wide objects a spec created", func() {
		It("so that two specs that create role app both pass, and the cluster ends as it started", func(ctx SpecContext) {
			run := runFixture(ctx, "cluster", 1)
			for _, text := range []string{"creates role app, a database and a setting, first", "creates role app, a database and a setting, second"} {
				s := run.spec(text)
				Expect(s.State).To(Equal(types.SpecStatePassed), text)
				for _, obj := range []string{`object="role \"app\""`, `object="database \"app_scratch\""`, `object="ALTER SYSTEM work_mem = \"7MB\""`} {
					Expect(s.CapturedGinkgoWriterOutput).To(MatchRegexp(`msg="removed a cluster-wide object the spec created" `+regexp.QuoteMeta(obj)+` database=pgg_\w+`), "%s: a log line for %s", text, obj)
				}
			}
			Expect(run.file("state", "sees none of them afterwards")).To(Equal("0,0,0"))
			start, err := os.ReadFile(filepath.Join(run.out, "cluster-start.txt"))
			Expect(err).NotTo(HaveOccurred())
			end, err := os.ReadFile(filepath.Join(run.out, "cluster-end.txt"))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(end)).To(Equal(string(start)), "pg_roles, the databases, ALTER SYSTEM and work_mem are back to their start state")
			Expect(string(start)).To(HaveSuffix("\n4MB"))
		}, SpecTimeout(3*time.Minute))

		It("fails the spec with the objects named under ClusterObjects(FailOnClusterObjects)", func(ctx SpecContext) {
			run := runFixture(ctx, "clusterfail", 1)
			s := run.spec("creates role app under the Fail policy")
			Expect(s.State).To(Equal(types.SpecStateFailed))
			Expect(s.Failure.Message).To(Equal(`the spec created 3 cluster-wide object(s), which outlive its database and would reach every later spec: ALTER SYSTEM work_mem = "7MB", database "app_scratch", role "app".
pgginkgo removed them. Drop them in the spec (DeferCleanup), create them in a migration, or give the suite or this FreshDatabase pgginkgo.DropClusterObjects to have them removed without failing.`))
			Expect(entriesOf(s, "pgginkgo database kept")).To(HaveLen(1), "the failed spec's database is kept")
			Expect(run.spec("creates role app again").State).To(Equal(types.SpecStatePassed))
		}, SpecTimeout(3*time.Minute))
	})

	Describe("restores the Env decorator's variables", func() {
		It("after passing, failing and panicking specs, and applies nothing of an invalid batch", func(ctx SpecContext) {
			run := runFixture(ctx, "env", 2, "FIXTURE_UNSET=present", "FIXTURE_EMPTY=")
			const inside = `FIXTURE_VAR="inside" FIXTURE_UNSET=<unset> FIXTURE_EMPTY="x"`
			const before = `FIXTURE_VAR=<unset> FIXTURE_UNSET="present" FIXTURE_EMPTY=""`
			Expect(run.clustersStarted()).To(HaveLen(1))

			for text, state := range map[string]types.SpecState{
				"passes with the variables set": types.SpecStatePassed,
				"fails with the variables set":  types.SpecStateFailed,
				"panics with the variables set": types.SpecStatePanicked,
			} {
				s := run.spec(text)
				Expect(s.State).To(Equal(state), text)
				Expect(entry(s, "env inside")).To(Equal(inside), text)
				Expect(run.file("env", text)).To(Equal(before), "after the spec that %s", text)
			}

			empty := run.spec("has an empty key")
			Expect(empty.State).To(Equal(types.SpecStateFailed))
			Expect(empty.Failure.Message).To(HavePrefix(`decorators.Env: envscope: invalid change: change 2 of 2 (set ""): the key is empty;`))
			Expect(empty.Failure.Message).To(HaveSuffix("nothing was applied"))
			Expect(entriesOf(empty, "env inside")).To(BeEmpty(), "the spec body never ran")
			Expect(run.file("env", empty.LeafNodeText)).To(Equal(before))

			equals := run.spec("has a key with an equals sign")
			Expect(equals.State).To(Equal(types.SpecStateFailed))
			Expect(equals.Failure.Message).To(ContainSubstring(`the key contains '=' at byte 11, which separates name from value in the environment; pass the name alone as the key, as in Set("FIXTURE_VAR", value); nothing was applied`))
			Expect(entriesOf(equals, "env inside")).To(BeEmpty())
			Expect(run.file("env", equals.LeafNodeText)).To(Equal(before))
		}, SpecTimeout(3*time.Minute))
	})

	Describe("explains bad input", func() {
		It("a suite without pgginkgo.Suite, and DB without the decorator", func(ctx SpecContext) {
			run := runFixture(ctx, "nosuite", 2)
			Expect(run.clustersStarted()).To(BeEmpty())

			msg := run.spec("uses FreshDatabase without the suite setup").Failure.Message
			Expect(msg).To(ContainSubstring("decorators.FreshDatabase needs the suite setup"))
			Expect(msg).To(ContainSubstring("add `var _ = pgginkgo.Suite()` to the suite"))

			msg = run.spec("calls DB without the decorator").Failure.Message
			Expect(msg).To(HavePrefix("pgginkgo.DB(ctx) found no database for this spec: decorate the spec or its container with decorators.FreshDatabase()"))
		}, SpecTimeout(3*time.Minute))

		It("an unknown template, and DB or CurrentDB without the decorator", func(ctx SpecContext) {
			run := runFixture(ctx, "badspec", 2)
			Expect(run.clustersStarted()).To(HaveLen(1))
			Expect(run.spec("asks for an unknown template").Failure.Message).To(Equal(
				`pgginkgo: unknown template "nope": the suite defines "schema", "seeded"; add pgginkgo.DefineTemplate("nope", ...) to pgginkgo.Suite or fix the name`))
			Expect(run.spec("calls DB without the decorator").Failure.Message).To(ContainSubstring(
				"pgginkgo.DB(ctx) found no database for this spec: decorate the spec or its container with decorators.FreshDatabase()"))
			Expect(run.spec("calls CurrentDB without the decorator").Failure.Message).To(ContainSubstring(
				"pgginkgo.CurrentDB() found no database for this spec: decorate the spec or its container with decorators.FreshDatabase()"))
			Expect(run.spec("uses a known template").State).To(Equal(types.SpecStatePassed))
		}, SpecTimeout(3*time.Minute))

		It("a template the pool cannot clone: the error reaches the spec, no hang", func(ctx SpecContext) {
			run := runFixture(ctx, "brokenpool", 1)
			spec := run.spec("asks for a template that is gone")
			Expect(spec.State).To(Equal(types.SpecStateFailed))
			Expect(spec.Failure.Message).To(ContainSubstring(`pgginkgo: preparing a database from template "seeded": cloning`))
			Expect(spec.Failure.Message).To(ContainSubstring("does not exist"))
			Expect(spec.RunTime).To(BeNumerically("<", 10*time.Second), "a broken pool fails the spec at once")
		}, SpecTimeout(3*time.Minute))

		It("a migration with an SQL error: file, line:column and the statement", func(ctx SpecContext) {
			run := runFixture(ctx, "badsql", 2)
			Expect(run.clustersStarted()).To(HaveLen(1), "the cluster started, then was stopped")
			setup := run.setup()
			Expect(setup.State).To(Equal(types.SpecStateFailed))
			Expect(setup.Failure.Message).To(ContainSubstring(`building template "schema": template "schema", source 2: ` +
				`badsql/002_bad.sql:8:27: ERROR: syntax error at or near "NUL" (SQLSTATE 42601)` + "\n" +
				"  6 |     id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n" +
				"  7 |     gadget_id bigint NOT NULL REFERENCES gadgets (id),\n" +
				"  8 |     quantity  integer NOT NUL DEFAULT 1\n" +
				"    |                           ^\n"))
			Expect(setup.Failure.Message).To(ContainSubstring("fix the migration and run again"))
			expectNoSpecRan(run)
		}, SpecTimeout(3*time.Minute))

		It("a missing migrations directory", func(ctx SpecContext) {
			run := runFixture(ctx, "missingdir", 2)
			Expect(run.clustersStarted()).To(BeEmpty(), "the directory is checked before anything starts")
			setup := run.setup()
			Expect(setup.State).To(Equal(types.SpecStateFailed))
			Expect(setup.Failure.Message).To(MatchRegexp(`migrations not found: migrations directory "does-not-exist" does not exist \(working directory /\S+/decorators/testdata/fixture\); tests run in their package's directory`))
			expectNoSpecRan(run)
		}, SpecTimeout(3*time.Minute))

		It("a directory that mixes two tools' migrations, before starting anything", func(ctx SpecContext) {
			run := runFixture(ctx, "mixedformats", 2)
			Expect(run.clustersStarted()).To(BeEmpty(), "the files are checked before anything starts")
			setup := run.setup()
			Expect(setup.State).To(Equal(types.SpecStateFailed))
			Expect(setup.Failure.Message).To(ContainSubstring(`pgginkgo: template "schema", source 1: invalid migrations: migrations directory "mixed" mixes the files of goose (mixed/001_a.sql) and dbmate (mixed/002_b.sql); keep one tool's migrations per directory, or give each tool's directory its own SQLDir`))
			expectNoSpecRan(run)
		}, SpecTimeout(3*time.Minute))

		It("template names that are too long or invalid, before starting anything", func(ctx SpecContext) {
			run := runFixture(ctx, "badname", 2)
			Expect(run.clustersStarted()).To(BeEmpty())
			setup := run.setup()
			Expect(setup.State).To(Equal(types.SpecStateFailed))
			long := strings.Repeat("t", 40)
			Expect(setup.Failure.Message).To(ContainSubstring(`pgginkgo: invalid option: DefineTemplate("` + long + `"): invalid template name "` + long + `": it is 40 bytes long, the limit is 32; use a shorter name`))
			Expect(setup.Failure.Message).To(ContainSubstring(`DefineTemplate("bad name!"): invalid template name "bad name!": character ' ' at byte 3 is not allowed; use letters, digits and _ + - . :`))
			expectNoSpecRan(run)
		}, SpecTimeout(3*time.Minute))
	})
})

var _ = Describe("the leftover check of fixture runs", func() {
	It("sees the processes and directory of a live cluster", func() {
		// This suite's own cluster stands in for one a fixture run left
		// behind, so that an empty answer from processesIn means something.
		dir := filepath.Dir(pgginkgo.Cluster().SocketDir)
		Expect(dir).To(BeADirectory())
		Expect(processesIn(dir)).To(ContainElement(ContainSubstring("postgres")))
	})
})

// expectNoSpecRan checks that a failed setup stopped the run before any
// spec.
func expectNoSpecRan(run *fixtureRun) {
	GinkgoHelper()
	Expect(run.exit).To(Equal(1))
	for _, s := range run.report.SpecReports {
		if s.LeafNodeType == types.NodeTypeIt {
			Expect(s.State).NotTo(Equal(types.SpecStatePassed), s.LeafNodeText)
		}
	}
}
