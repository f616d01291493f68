package pgginkgo

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onsi/ginkgo/v2"
)

// reportKept lists, at the end of the suite, the databases kept by every
// process, and holds the cluster open for PGGINKGO_HOLD (e.g. "5m") so that
// their psql commands can be used after the last spec.
func reportKept(ctx context.Context, conn *pgx.Conn, h *Handle) {
	if conn == nil {
		return
	}
	pattern := "%"
	if h.RunID != "" { // an existing server: this run's own, not every run's
		pattern = runPattern(h.RunID)
	}
	rows, err := conn.Query(ctx, `SELECT d.datname, pg_catalog.shobj_description(d.oid, 'pg_database')
		FROM pg_catalog.pg_database d
		WHERE pg_catalog.shobj_description(d.oid, 'pg_database') LIKE 'pgginkgo kept%' AND d.datname LIKE $1 ORDER BY 1`, pattern)
	if err != nil {
		return
	}
	var lines []string
	for rows.Next() {
		var name, comment string
		if rows.Scan(&name, &comment) == nil {
			// "at <time> ", for sweeps of an existing server, is no news here.
			why := keptAt.ReplaceAllString(comment, "(")
			lines = append(lines, fmt.Sprintf("%s — %s\n    psql '%s'", name, why, h.psqlURL(name)))
		}
	}
	if len(lines) == 0 {
		return
	}
	msg := fmt.Sprintf("%d database(s) kept:\n%s", len(lines), strings.Join(lines, "\n"))
	if h.External {
		// They outlive the run: a sweep drops them after ServerRetention.
		ginkgo.AddReportEntry("pgginkgo kept databases", msg+"\nThey stay on the server after the run; a run or `pgginkgo gc --server` drops them once older than the retention (24 h by default).", ginkgo.ReportEntryVisibilityAlways)
		return
	}
	ginkgo.AddReportEntry("pgginkgo kept databases", msg, ginkgo.ReportEntryVisibilityAlways)
	if d, err := time.ParseDuration(os.Getenv("PGGINKGO_HOLD")); err == nil && d > 0 {
		// To stderr, from SynchronizedAfterSuite's process-1 body: under
		// ginkgo -p, Ginkgo forwards stdout and stderr there (and in the
		// setup twin) to the CLI as they are written; elsewhere, and for
		// GinkgoWriter and report entries, output shows when the node
		// ends, after the hold. See docs/design.md, "Evidence after a failure".
		fmt.Fprintf(os.Stderr, "pgginkgo: %s\npgginkgo: holding the cluster for %s (PGGINKGO_HOLD); interrupt to stop earlier\n", msg, d)
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
}
