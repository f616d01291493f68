package pgginkgo

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// Database is a spec's own database, cloned from a template and already
// migrated and connected. Get it with DB(ctx) inside a spec decorated with
// decorators.FreshDatabase.
type Database struct {
	name     string
	template string
	url      string
	psql     string // the URL PsqlCommand prints (see Handle.psqlURL)
	pool     *pgxpool.Pool
	conns    *connTracker // the pool's acquired connections

	mu    sync.Mutex
	sqlDB *sql.DB

	// reset is the connection recycling uses, never a spec's (see
	// prefetch.reset); only the pool's workers touch it, while the
	// database is back in the pool.
	reset *pgx.Conn
}

// Name is the database's name.
func (d *Database) Name() string { return d.name }

// TemplateName is the name of the template the database was cloned from,
// as given to DefineTemplate.
func (d *Database) TemplateName() string { return d.template }

// URL is a connection URL for the database; it names the passfile and holds
// no password, so it is safe to print.
func (d *Database) URL() string { return d.url }

// Pool is a pgx pool on the database, already connected. Do not close it:
// pgginkgo recycles it with the database.
func (d *Database) Pool() *pgxpool.Pool { return d.pool }

// SQL is a database/sql handle on the database, sharing Pool's
// connections. Do not close it; pgginkgo does after the spec.
func (d *Database) SQL() *sql.DB {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sqlDB == nil {
		d.sqlDB = stdlib.OpenDBFromPool(d.pool)
	}
	return d.sqlDB
}

// PsqlCommand is a command line that opens psql on the database while the
// cluster runs. On an existing server it names no passfile: the run's goes
// with the run, and a kept database outlives it, so psql asks for the
// role's password the usual way (PGPASSWORD, ~/.pgpass or a prompt).
func (d *Database) PsqlCommand() string { return fmt.Sprintf("psql '%s'", d.psql) }

// String names the database and its template.
func (d *Database) String() string {
	return fmt.Sprintf("database %s (template %s)", d.name, d.template)
}

// closeSQL hands database/sql's idle connections back to the pool, so that
// they neither count as leaks nor keep session state into the next spec.
// close closes every connection pgginkgo holds to the database.
func (d *Database) close() {
	d.closeSQL()
	closePool(d.pool)
	d.closeReset()
}

// renewPool gives the database a new pool in place of one that still has
// connections out after its spec (see checkLeaks), and closes the old one
// without waiting on them.
func (d *Database) renewPool() {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	pool, conns, err := newDatabasePool(ctx, d.url)
	if err != nil { // only a URL pgginkgo built, which parsed before
		procPools.log.Warn("renewing the pool of a database failed", "database", d.name, "error", err)
		return
	}
	old := d.pool
	d.pool, d.conns = pool, conns
	closePool(old)
}

// resetPID is the backend pid of the reset connection, or 0.
func (d *Database) resetPID() uint32 {
	if d.reset == nil || d.reset.IsClosed() {
		return 0
	}
	return d.reset.PgConn().PID()
}

func (d *Database) closeReset() {
	if d.reset != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.reset.Close(ctx)
		d.reset = nil
	}
}

func (d *Database) closeSQL() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sqlDB != nil {
		_ = d.sqlDB.Close()
		d.sqlDB = nil
	}
}

type dbContextKey struct{}

// WithDB returns a context carrying db, for code a spec calls that expects
// to find its database with DB(ctx).
func WithDB(ctx context.Context, db *Database) context.Context {
	return context.WithValue(ctx, dbContextKey{}, db)
}

// DB returns the database of the running spec, carried by ctx (the
// context of a node decorators.FreshDatabase wraps, or any context derived
// from it). Anywhere else it fails the spec with a message that says where
// to put the decorator.
//
//	It("stores the user", decorators.FreshDatabase(), func(ctx SpecContext) {
//		db := pgginkgo.DB(ctx)
//		_, err := db.Pool().Exec(ctx, `insert into users(email) values ('a@b.c')`)
//		Expect(err).NotTo(HaveOccurred())
//	})
func DB(ctx context.Context) *Database {
	if db, ok := ctx.Value(dbContextKey{}).(*Database); ok && db != nil {
		return db
	}
	ginkgo.GinkgoHelper()
	ginkgo.Fail(noDatabaseMessage("pgginkgo.DB(ctx)"))
	return nil
}

// CurrentDB returns the database of the node running in this process, for
// code that has no context at hand (helpers, and goroutines while their
// node runs). Like DB, it fails outside the nodes decorators.FreshDatabase
// wraps: an Ordered container's database is not handed to the undecorated
// specs that run after it.
func CurrentDB() *Database {
	if b := specs.current.Load(); b != nil && !b.released {
		return b.db
	}
	ginkgo.GinkgoHelper()
	ginkgo.Fail(noDatabaseMessage("pgginkgo.CurrentDB()"))
	return nil
}

// noDatabaseMessage explains a call outside FreshDatabase: in the It of a
// spec without it, or in a setup node the decorator does not cover, which
// is where Ginkgo's rule (an It's decorators wrap that It alone) bites.
func noDatabaseMessage(call string) string {
	r := ginkgo.CurrentSpecReport()
	node, at := runningNode(r)
	if node == types.NodeTypeInvalid || node.Is(types.NodeTypeIt) {
		return call + ` found no database for this spec: decorate the spec or its container with decorators.FreshDatabase(), e.g.
	It("stores the user", decorators.FreshDatabase(), func(ctx SpecContext) { db := pgginkgo.DB(ctx) })
and make sure the suite calls pgginkgo.Suite(...).`
	}
	if d := written.onIt(r); d != nil {
		return fmt.Sprintf(`%s in the %s at %s found no database: decorators.FreshDatabase is on the It at %s, and Ginkgo applies an It's decorators to that It alone, so the %s runs without it.
Move FreshDatabase to the Describe or Context that holds the %s: then every node of the spec sees one database.`, call, node, at, d.at, node, node)
	}
	return fmt.Sprintf(`%s in the %s at %s found no database: no decorators.FreshDatabase covers this node. FreshDatabase on a container covers every node inside it, and on an It only that It.
Put FreshDatabase on the Describe or Context that holds the %s (or on one around it).`, call, node, at, node)
}

// runningNode is the node of r that is running now: the last one started.
func runningNode(r types.SpecReport) (types.NodeType, types.CodeLocation) {
	for i := len(r.SpecEvents) - 1; i >= 0; i-- {
		if e := r.SpecEvents[i]; e.SpecEventType == types.SpecEventNodeStart {
			return e.NodeType, e.CodeLocation
		}
	}
	return types.NodeTypeInvalid, types.CodeLocation{}
}
