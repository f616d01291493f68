package bench_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/bench/internal/workload"
)

// packageEnv and packageRun are the packages container's env and
// ginkgoRun, handed to the figures that live in other files.
type (
	packageEnv func(side, migrations string, specs int, extra ...string) []string
	packageRun func(ctx context.Context, e []string, specs int, bins ...string) time.Duration
)

// Log records that tell what a run on an existing server did.
const (
	templateBuiltEntry  = `msg="template ready"`
	templateMigrated    = "migrated=true"
	runDatabasesDropped = `msg="run's databases dropped"`
	externalServerEntry = `msg="existing server"`
	ourDatabasesPattern = `pgg\_%`
	ourTemplatesPattern = `pgginkgo\_tpl\_%`
)

// externalWarm is "1 package × 200 specs, on the same existing server,
// warm": one PostgreSQL server (pgtestdb's, started by pgginkgo.Start),
// which ours reaches through PGGINKGO_SERVER_URL and pgtestdb as before.
// Each side runs once first, so that its template is on the server (ours
// keeps it by content hash, pgtestdb by its own hash); then the runs are
// timed, alternating, wallRuns each. Ours must have built its template in
// the first run only and left none of its run databases behind.
func externalWarm(ctx context.Context, server *pgginkgo.Handle, root string, env packageEnv, run packageRun, bin, migrations string) []string {
	logPath := filepath.Join(root, "external.log")
	ours := env("ours", migrations, singleSpecs, pgginkgo.EnvServerURL+"="+server.URL("postgres"), "PGGINKGO_BENCH_PKG_LOG="+logPath)
	theirs := env("pgtestdb", migrations, singleSpecs)

	run(ctx, ours, singleSpecs, bin)
	run(ctx, theirs, singleSpecs, bin)
	var oursRuns, theirRuns []time.Duration
	for range wallRuns {
		oursRuns = append(oursRuns, run(ctx, ours, singleSpecs, bin))
		theirRuns = append(theirRuns, run(ctx, theirs, singleSpecs, bin))
	}

	data, err := os.ReadFile(logPath)
	expectOK(err)
	log := string(data)
	runs := wallRuns + 1
	Expect(strings.Count(log, externalServerEntry)).To(Equal(runs), "every run of ours used the existing server:\n%s", tail(log))
	var ready []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, templateBuiltEntry) {
			ready = append(ready, l)
		}
	}
	Expect(ready).To(HaveLen(runs), "one template ready record per run:\n%s", tail(log))
	Expect(ready[0]).To(ContainSubstring(templateMigrated), "the first run builds the template")
	Expect(strings.Count(log, templateMigrated)).To(Equal(1), "the template is built once, then reused:\n%s", strings.Join(ready, "\n"))
	Expect(strings.Count(log, runDatabasesDropped)).To(Equal(runs), "every run dropped its databases:\n%s", tail(log))

	conn, err := pgx.Connect(ctx, server.URL("postgres"))
	expectOK(err)
	defer conn.Close(context.WithoutCancel(ctx))
	names := func(pattern string) []string {
		rows, err := conn.Query(ctx, `SELECT datname FROM pg_catalog.pg_database WHERE datname LIKE $1 ORDER BY 1`, pattern)
		expectOK(err)
		ns, err := pgx.CollectRows(rows, pgx.RowTo[string])
		expectOK(err)
		return ns
	}
	Expect(names(ourDatabasesPattern)).To(BeEmpty(), "databases of ours left on the server")
	templates := names(ourTemplatesPattern)
	Expect(templates).To(HaveLen(1), "templates of ours on the server")

	o, t := percentile(oursRuns, 0.5), percentile(theirRuns, 0.5)
	return []string{
		fmt.Sprintf("external warm: ours=%.2fs pgtestdb=%.2fs ratio=%.2f", o.Seconds(), t.Seconds(), float64(t)/float64(max(o, time.Nanosecond))),
		fmt.Sprintf("external runs: ginkgo -p (%d procs) on one server (pgginkgo.Start, PostgreSQL %s) for both sides, median of %d warm runs per side; schema %d migrations; "+
			"ours=%s pgtestdb=%s; template %s built once in %d runs; pgg_* databases left: 0",
			ginkgoProcs(), server.Version, wallRuns, workload.Large.Files, secondsList(oursRuns), secondsList(theirRuns), templates[0], runs),
	}
}
