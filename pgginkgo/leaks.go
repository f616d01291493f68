package pgginkgo

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The kinds of leak checkLeaks names. The first three are connections of
// the spec's own pool (Database.Pool, Database.SQL) that were never given
// back; the last two are sessions the spec opened itself.
const (
	leakRows     = "unclosed rows"
	leakTx       = "open transaction"
	leakAcquire  = "unreleased Acquire"
	leakClient   = "separate client"
	leakClientTx = "session left in a transaction"
)

// leakHints says, per kind, what the spec should have done.
var leakHints = map[string]string{
	leakRows:     "a pool connection still held by unread or unclosed rows: call rows.Close(), or defer it",
	leakTx:       "a pool connection still held by a transaction: Commit or Rollback it",
	leakAcquire:  "a connection taken with Pool().Acquire and never released: call conn.Release()",
	leakClient:   "a connection the spec opened itself: Close it",
	leakClientTx: "a connection the spec opened itself, left inside a transaction: end the transaction and Close it",
}

// leak is a connection to a spec's database that pgginkgo does not hold
// idle when the spec ends, as pg_stat_activity shows it.
type leak struct {
	kind                   string
	pid                    int32
	app, state, query, age string
}

func (l leak) String() string {
	q := strings.Join(strings.Fields(l.query), " ")
	if len(q) > 120 {
		q = q[:117] + "..."
	}
	age := ""
	if l.age != "" {
		age = " transaction age=" + l.age
	}
	return fmt.Sprintf("%s (%s):\n      pid=%d application_name=%q state=%s%s last query=%q",
		l.kind, leakHints[l.kind], l.pid, l.app, l.state, age, q)
}

// leakCheckTimeout bounds the whole leak check of one spec.
const leakCheckTimeout = 10 * time.Second

// checkLeaks finds every connection the spec left open to its database:
// connections of the spec's pool it did not give back (unclosed rows, an
// open transaction, an unreleased Acquire) and sessions of its own (a
// separate client, maybe inside a transaction). Such a connection would
// block the recycling of the database, or the closing of its pool, and
// usually hides a bug in the code under test. Every leaked backend is
// terminated, and a pool that still has connections out is abandoned for a
// new one, so the suite never waits on it. It returns the failure message,
// or "" when there is nothing to fail for; fail is false for Ordered
// containers, whose database outlives each spec: their leaks are only
// terminated and logged.
func checkLeaks(ctx context.Context, b *binding, fail bool) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leakCheckTimeout)
	defer cancel()
	// database/sql holds pool connections while idle; closing it first
	// returns them, and leaves out only those a sql.Rows or sql.Tx holds.
	b.db.closeSQL()
	pooled := b.db.conns.held()
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
	leaks, err := findLeaks(ctx, b.db.name, ours, pooled)
	if err != nil {
		procPools.log.Warn("checking for leaked connections failed", "database", b.db.name, "error", err)
	}
	if len(pooled) > 0 {
		// pgxpool's Close would wait for these forever.
		b.db.renewPool()
	}
	if len(leaks) == 0 {
		return ""
	}
	lines := make([]string, len(leaks))
	for i, l := range leaks {
		lines[i] = "  - " + l.String()
		// Terminated in every case, so that the database can be recycled.
		if _, err := procPools.admin.Exec(ctx, "SELECT pg_catalog.pg_terminate_backend($1)", l.pid); err != nil {
			procPools.log.Warn("terminating a leaked connection failed", "database", b.db.name, "pid", l.pid, "error", err)
		}
	}
	policy := b.policies().leaks
	if policy == TerminateLeaks || !fail {
		procPools.log.Info("terminated leaked connections", "database", b.db.name, "connections", strings.Join(lines, "; "))
		return ""
	}
	return fmt.Sprintf("the spec left %d connection(s) open to its database %s:\n%s\npgginkgo terminated them, and the suite goes on. Close them before the spec ends, or give this FreshDatabase (or the suite) pgginkgo.TerminateLeaks to terminate them without failing the spec.",
		len(leaks), b.db.name, strings.Join(lines, "\n"))
}

// findLeaks lists the sessions on database name that are not ours, each with
// its kind: a connection of the spec's pool (pooled, by backend pid) or a
// session of the spec's own. A client's Close returns before its backend
// exits, so sessions of the spec's own get a moment to disappear before
// they count.
func findLeaks(ctx context.Context, name string, ours map[int32]bool, pooled map[int32]string) ([]leak, error) {
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		leaks, err := sessions(ctx, name, ours, pooled)
		if err != nil {
			return nil, err
		}
		own := 0
		for _, l := range leaks {
			if _, ok := pooled[l.pid]; !ok {
				own++
			}
		}
		if own == 0 || time.Now().After(deadline) {
			// A held pool connection whose backend is already gone is
			// still a leak of the pool.
			seen := map[int32]bool{}
			for _, l := range leaks {
				seen[l.pid] = true
			}
			for pid, kind := range pooled {
				if !seen[pid] {
					leaks = append(leaks, leak{kind: kind, pid: pid, state: "closed"})
				}
			}
			return leaks, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sessions queries over the admin pool rather than through gsql.Connections,
// which borrows a connection of the spec's own pool: a spec that leaked
// every connection of that pool would make the check wait.
func sessions(ctx context.Context, name string, ours map[int32]bool, pooled map[int32]string) ([]leak, error) {
	rows, err := procPools.admin.Query(ctx, `SELECT pid, coalesce(application_name, ''), coalesce(state, ''), coalesce(query, ''),
		coalesce(extract(epoch FROM pg_catalog.clock_timestamp() - xact_start)::float8, -1)
		FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid() ORDER BY pid`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var leaks []leak
	for rows.Next() {
		var l leak
		var age float64
		if err := rows.Scan(&l.pid, &l.app, &l.state, &l.query, &age); err != nil {
			return nil, err
		}
		if age >= 0 {
			l.age = time.Duration(age * float64(time.Second)).Round(time.Millisecond).String()
		}
		if ours[l.pid] {
			continue
		}
		switch kind, ok := pooled[l.pid]; {
		case ok:
			l.kind = kind
		case strings.HasPrefix(l.state, "idle in transaction"):
			l.kind = leakClientTx
		default:
			l.kind = leakClient
		}
		leaks = append(leaks, l)
	}
	return leaks, rows.Err()
}
