package pgginkgo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
)

// leak is a connection to a spec's database that pgginkgo's pool does not
// hold idle.
type leak struct {
	pid                     int32
	app, state, query, from string
}

func (l leak) String() string {
	q := strings.Join(strings.Fields(l.query), " ")
	if len(q) > 120 {
		q = q[:117] + "..."
	}
	return fmt.Sprintf("pid=%d application_name=%q state=%s last query=%q%s", l.pid, l.app, l.state, q, l.from)
}

// checkLeaks finds connections the spec left open to its database: other
// clients it opened and did not close, and connections it took from the
// spec's pool and did not give back (unclosed rows, an unreleased
// Acquire). They would block the recycling of the database and usually hide
// a bug in the code under test. fail is false for Ordered containers, whose
// database outlives each spec: their leaks are terminated and logged.
func checkLeaks(ctx context.Context, b *binding, fail bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ours := map[int32]bool{}
	idle := b.db.pool.AcquireAllIdle(ctx)
	for _, c := range idle {
		ours[int32(c.Conn().PgConn().PID())] = true
	}
	for _, c := range idle {
		c.Release()
	}
	// database/sql idle connections are ours too; closing it returns them.
	b.db.closeSQL()
	acquired := b.db.pool.Stat().AcquiredConns()
	rows, err := procPools.admin.Query(ctx, `SELECT pid, coalesce(application_name, ''), coalesce(state, ''), coalesce(query, '')
		FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid() ORDER BY pid`, b.db.name)
	if err != nil {
		procPools.log.Warn("checking for leaked connections failed", "database", b.db.name, "error", err)
		return
	}
	var leaks []leak
	for rows.Next() {
		var l leak
		if err := rows.Scan(&l.pid, &l.app, &l.state, &l.query); err != nil {
			continue
		}
		if ours[l.pid] {
			continue
		}
		leaks = append(leaks, l)
	}
	rows.Close()
	if len(leaks) == 0 {
		return
	}
	if acquired > 0 {
		for i := range leaks {
			leaks[i].from = " (possibly one of the spec pool's connections still acquired)"
		}
	}
	policy := procPools.cfg.leakPolicy
	if b.opts.leaks != nil {
		policy = *b.opts.leaks
	}
	lines := make([]string, len(leaks))
	for i, l := range leaks {
		lines[i] = "  " + l.String()
	}
	msg := fmt.Sprintf("the spec left %d connection(s) open to its database %s:\n%s\nClose them before the spec ends (rows.Close, conn.Close, Release), or pass pgginkgo.TerminateLeakedConnections() / decorators.TerminateLeaks() to terminate them instead.",
		len(leaks), b.db.name, strings.Join(lines, "\n"))
	if policy == TerminateLeaks || !fail {
		for _, l := range leaks {
			_, _ = procPools.admin.Exec(ctx, "SELECT pg_catalog.pg_terminate_backend($1)", l.pid)
		}
		procPools.log.Info("terminated leaked connections", "database", b.db.name, "connections", strings.Join(lines, "; "))
		return
	}
	for _, l := range leaks {
		// Terminate anyway so the database can be recycled; the spec fails.
		_, _ = procPools.admin.Exec(ctx, "SELECT pg_catalog.pg_terminate_backend($1)", l.pid)
	}
	ginkgo.Fail(msg)
}
