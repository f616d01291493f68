package gsql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
)

// Connection is one client connected to the database, as pg_stat_activity
// shows it. HaveOpenConnections passes it to ignoring matchers, so a
// HaveField("State", "idle") works as a filter too.
type Connection struct {
	PID             int    // the backend's process id
	User            string // the role it is connected as
	ApplicationName string // what the client set as application_name
	// State is "active", "idle", "idle in transaction" and so on.
	State        string
	BackendStart time.Time // when the backend started; with PID, identifies it
	// Query is the statement running now or, when idle, the last one.
	Query string
}

// HaveOpenConnections succeeds if clients other than the checker are
// connected to the database: it is a leak check in the spirit of gleak's
// HaveLeaked, and so reads best with ShouldNot after a spec:
//
//	AfterEach(func() {
//		Eventually(pool).ShouldNot(gsql.HaveOpenConnections())
//	})
//
// Eventually gives the code under test time to close its connections, and the
// failure message lists those still open with their pid, user,
// application_name, state and last query.
//
// The checker is the connection running the check and, when it is handed a
// pool or a *sql.DB, that pool's idle connections, which it borrows while it
// looks: an idle connection in the test's own pool was returned, not leaked.
// Connections checked out of that pool are reported. A pgx.Tx or a
// *pgxpool.Conn is one connection of a pool gsql cannot see, whose idle
// connections it would report as leaks, so HaveOpenConnections fails on
// them with a message that asks for the pool; a *pgx.Conn is the checker.
//
// Arguments say which connections to ignore, each a matcher of a Connection:
//
//	HaveOpenConnections(gsql.IgnoringApplication("pgbouncer")) // application_name "pgbouncer"
//	HaveOpenConnections(gsql.IgnoringConnections(snapshot))    // a []Connection from Connections
//	HaveOpenConnections(HaveField("State", "idle"))             // any matcher of a Connection
func HaveOpenConnections(ignoring ...types.GomegaMatcher) *Matcher {
	m := newMatcher("HaveOpenConnections", connectionsCheck{ignore: ignoring})
	m.whole = true
	return m
}

// IgnoringApplication makes HaveOpenConnections ignore clients that set this
// application_name, such as a connection pooler or a monitoring agent.
func IgnoringApplication(name string) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(c Connection) (bool, error) {
		return c.ApplicationName == name, nil
	}).WithMessage("have application_name " + strconv.Quote(name))
}

// IgnoringConnections makes HaveOpenConnections ignore the connections of a
// snapshot taken with Connections, so that only those opened since count:
//
//	var before []gsql.Connection
//	BeforeEach(func(ctx SpecContext) {
//		var err error
//		before, err = gsql.Connections(ctx, pool)
//		Expect(err).NotTo(HaveOccurred())
//	})
//	AfterEach(func() {
//		Eventually(pool).ShouldNot(gsql.HaveOpenConnections(gsql.IgnoringConnections(before)))
//	})
//
// A connection is the same if its pid and start time are, since PostgreSQL
// reuses pids.
func IgnoringConnections(snapshot []Connection) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(c Connection) (bool, error) {
		for _, s := range snapshot {
			if s.PID == c.PID && s.BackendStart.Equal(c.BackendStart) {
				return true, nil
			}
		}
		return false, nil
	}).WithMessage(fmt.Sprintf("be one of %d connections of a snapshot", len(snapshot)))
}

// Connections lists the clients connected to db's database other than the
// checker (as HaveOpenConnections defines it), for a snapshot to give to
// IgnoringConnections or to inspect. db is any database HaveOpenConnections
// accepts.
func Connections(ctx context.Context, db any) ([]Connection, error) {
	src, err := resolve(db, true)
	if err != nil {
		return nil, fmt.Errorf("gsql.Connections %w", err)
	}
	var out []Connection
	_, err = runProbe(ctx, 0, src, func(p *probe) error {
		_, rows, err := p.connections()
		for _, r := range rows {
			out = append(out, connection(r))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gsql.Connections: %w", err)
	}
	return out, nil
}

type connectionsCheck struct{ ignore []types.GomegaMatcher }

func (c connectionsCheck) validate() error {
	for i, ign := range c.ignore {
		if ign == nil {
			return fmt.Errorf("ignoring matcher %d of %d is nil", i+1, len(c.ignore))
		}
	}
	return nil
}

func (c connectionsCheck) run(p *probe) (outcome, error) {
	o := outcome{subject: "the database", predicate: "have open connections other than the checker's"}
	cols, rows, err := p.connections()
	if err != nil {
		return o, err
	}
	var open [][]any
	ignored := 0
next:
	for _, r := range rows {
		conn := connection(r)
		for _, ign := range c.ignore {
			ok, err := ign.Match(conn)
			if err != nil {
				return o, fmt.Errorf("an ignoring matcher failed on pid %d: %w", conn.PID, err)
			}
			if ok {
				ignored++
				continue next
			}
		}
		open = append(open, r)
	}
	p.show("Open connections", cols, open)
	o.matched = len(open) > 0
	o.found = fmt.Sprintf("it has %d", len(open))
	if len(open) == 0 {
		o.found = "it has none"
	}
	if ignored > 0 {
		o.found += fmt.Sprintf(" (%d more ignored)", ignored)
	}
	return o, nil
}

// connections lists the other client backends of this database. It first
// borrows the pool's idle connections, so that they are part of the checker.
func (p *probe) connections() (cols []string, rows [][]any, err error) {
	mine, err := p.checkerPIDs()
	if err != nil {
		return nil, nil, err
	}
	pids := make([]string, len(mine))
	for i, pid := range mine {
		pids[i] = strconv.Itoa(int(pid))
	}
	// The pid list goes as text so that every driver can send it. The
	// connection pgginkgo recycles a database through is its own, idle
	// while a spec runs.
	return p.all(`SELECT pid, usename AS "user", application_name, state, backend_start, query
FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> ALL ($1::int4[])
	AND NOT (application_name = '`+recycle.ResetApplicationName+`' AND usename = current_user AND state = 'idle')
ORDER BY backend_start, pid`, "{"+strings.Join(pids, ",")+"}")
}

// checkerPIDs returns the backend pids of the checking connection and of the
// idle connections of its pool, which stay borrowed until the check ends.
func (p *probe) checkerPIDs() ([]int64, error) {
	var pids []int64
	err := p.s.each(p.ctx, "SELECT pg_backend_pid()", nil, func(_ []string, row []any) bool {
		pid, _ := row[0].(int64)
		pids = append(pids, pid)
		return false
	})
	if err != nil {
		return nil, p.failed("SELECT pg_backend_pid()", nil, err)
	}
	switch {
	case p.src.pool != nil:
		for _, c := range p.src.pool.AcquireAllIdle(p.ctx) {
			pids = append(pids, int64(c.Conn().PgConn().PID()))
			p.release = append(p.release, c.Release)
		}
	case p.src.db != nil:
		for range p.src.db.Stats().Idle {
			c, err := p.src.db.Conn(p.ctx)
			if err != nil {
				return nil, fmt.Errorf("borrow an idle connection of the *sql.DB: %w", err)
			}
			p.release = append(p.release, func() { _ = c.Close() })
			var pid int64
			if err := c.QueryRowContext(p.ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				return nil, fmt.Errorf("ask an idle connection of the *sql.DB for its pid: %w", err)
			}
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func connection(r []any) Connection {
	s := func(v any) string { x, _ := v.(string); return x }
	pid, _ := r[0].(int64)
	start, _ := r[4].(time.Time)
	return Connection{PID: int(pid), User: s(r[1]), ApplicationName: s(r[2]), State: s(r[3]), BackendStart: start, Query: s(r[5])}
}
