package pgginkgo

import (
	"context"
	"fmt"
	"strings"
	"time"
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
// a bug in the code under test. It returns the failure message, or ""
// when there is nothing to fail for. fail is false for Ordered containers, whose
// database outlives each spec: their leaks are terminated and logged.
func checkLeaks(ctx context.Context, b *binding, fail bool) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// database/sql holds pool connections while idle; closing it first
	// returns them, so they count as ours below.
	b.db.closeSQL()
	ours := map[int32]bool{}
	// The reset connection is pgginkgo's, idle while the spec runs.
	if pid := b.db.resetPID(); pid != 0 {
		ours[int32(pid)] = true
	}
	idle := b.db.pool.AcquireAllIdle(ctx)
	for _, c := range idle {
		ours[int32(c.Conn().PgConn().PID())] = true
	}
	for _, c := range idle {
		c.Release()
	}
	acquired := b.db.pool.Stat().AcquiredConns()
	// A client's Close returns before its backend exits: give closed
	// connections a moment to disappear before calling them leaks.
	var leaks []leak
	for deadline := time.Now().Add(500 * time.Millisecond); ; {
		var err error
		leaks, err = otherSessions(ctx, b.db.name, ours)
		if err != nil {
			procPools.log.Warn("checking for leaked connections failed", "database", b.db.name, "error", err)
			return ""
		}
		if len(leaks) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
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
	// Terminated in every case, so that the database can be recycled.
	for _, l := range leaks {
		_, _ = procPools.admin.Exec(ctx, "SELECT pg_catalog.pg_terminate_backend($1)", l.pid)
	}
	if policy == TerminateLeaks || !fail {
		procPools.log.Info("terminated leaked connections", "database", b.db.name, "connections", strings.Join(lines, "; "))
		return ""
	}
	return msg
}

// otherSessions lists the sessions on database name other than ours and the
// querying one. It queries over the admin pool rather than through
// gsql.Connections, which borrows a connection of the spec's own pool: a spec
// that leaked every connection of that pool would make the check wait.
func otherSessions(ctx context.Context, name string, ours map[int32]bool) ([]leak, error) {
	rows, err := procPools.admin.Query(ctx, `SELECT pid, coalesce(application_name, ''), coalesce(state, ''), coalesce(query, '')
		FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid() ORDER BY pid`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var leaks []leak
	for rows.Next() {
		var l leak
		if err := rows.Scan(&l.pid, &l.app, &l.state, &l.query); err != nil {
			return nil, err
		}
		if !ours[l.pid] {
			leaks = append(leaks, l)
		}
	}
	return leaks, rows.Err()
}
