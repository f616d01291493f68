package recycle_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// TestChangesThatForceReplace: whatever a data reset cannot undo must make
// Reset say Replace, so such a database is never handed to another spec.
func TestChangesThatForceReplace(t *testing.T) {
	tpl := build(t, "shop+seed", shopSources()...)
	for _, tc := range []struct {
		name   string
		sql    string
		cause  recycle.Cause
		reason string // a substring of the report's reason
	}{
		{"CREATE TABLE", `CREATE TABLE later (id int); INSERT INTO later VALUES (1)`, recycle.CauseSchema, "CREATE TABLE public.later"},
		{"ALTER TABLE", `ALTER TABLE users ADD COLUMN nickname text`, recycle.CauseSchema, "ALTER TABLE public.users"},
		{"CREATE INDEX", `CREATE INDEX ON orders (note)`, recycle.CauseSchema, "CREATE INDEX"},
		{"GRANT", `GRANT SELECT ON users TO PUBLIC`, recycle.CauseSchema, "GRANT"},
		{"REVOKE", `REVOKE INSERT ON users FROM pgginkgo_app`, recycle.CauseSchema, "REVOKE"},
		{"CREATE EXTENSION", `CREATE EXTENSION hstore`, recycle.CauseSchema, "public.hstore"},
		{"COMMENT", `COMMENT ON TABLE users IS 'people'`, recycle.CauseSchema, "COMMENT public.users"},
		{"CREATE FUNCTION", `CREATE FUNCTION two() RETURNS int LANGUAGE sql AS 'SELECT 2'`, recycle.CauseSchema, "CREATE FUNCTION"},
		{"DROP VIEW", `DROP VIEW order_totals`, recycle.CauseSchema, "DROP VIEW public.order_totals"},
		{"REFRESH MATERIALIZED VIEW", `REFRESH MATERIALIZED VIEW product_count`, recycle.CauseSchema, "REFRESH MATERIALIZED VIEW"},
		{"ALTER SEQUENCE", `ALTER SEQUENCE invoice_numbers INCREMENT 10`, recycle.CauseSchema, "ALTER SEQUENCE"},
		{"DDL in replica mode", `SET session_replication_role = replica; CREATE TABLE later (id int)`, recycle.CauseSchema, "CREATE TABLE"},
		{"CLUSTER, which no event trigger sees", `CLUSTER orders USING orders_pkey`, recycle.CauseSchema, "pg_catalog.pg_index"},
		{"a direct catalog update", `UPDATE pg_catalog.pg_proc SET provolatile = 's' WHERE proname = 'log_order'`, recycle.CauseSchema, "pg_catalog.pg_proc"},
		{"ALTER DATABASE SET", `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = ''8MB''', current_database()); END $$`,
			recycle.CauseDatabase, "settings of the database"},
		{"ALTER ROLE IN DATABASE SET", `DO $$ BEGIN EXECUTE format('ALTER ROLE pgginkgo_app IN DATABASE %I SET work_mem = ''8MB''', current_database()); END $$`,
			recycle.CauseDatabase, "settings of the database"},
		{"GRANT on the database", `DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO pgginkgo_app', current_database()); END $$`,
			recycle.CauseDatabase, "privileges on the database"},
		{"COMMENT ON DATABASE", `DO $$ BEGIN EXECUTE format('COMMENT ON DATABASE %I IS ''x''', current_database()); END $$`,
			recycle.CauseDatabase, "COMMENT ON DATABASE"},
		{"disabled event trigger", `ALTER EVENT TRIGGER pgginkgo_ddl DISABLE; CREATE TABLE unseen (id int)`, recycle.CauseMachinery, "event trigger"},
		{"dropped event trigger", `DROP EVENT TRIGGER pgginkgo_drop`, recycle.CauseMachinery, "event trigger"},
		{"tracking trigger disabled behind our back", `UPDATE pg_catalog.pg_trigger SET tgenabled = 'D' WHERE tgname = 'pgginkgo_track' AND tgrelid = 'users'::regclass; INSERT INTO users (email, name) VALUES ('z@z.z', 'Z')`,
			recycle.CauseMachinery, "tracking trigger on public.users"},
		{"snapshot unguarded by DDL", `ALTER TABLE pgginkgo.seed_rows DISABLE TRIGGER ALL; DELETE FROM pgginkgo.seed_rows`, recycle.CauseSchema, "ALTER TABLE pgginkgo.seed_rows"},
		{"write to a template large object", `SELECT lo_put(body, 0, 'HELLO') FROM documents`, recycle.CauseLargeObject, "large object of the template"},
		{"unlink a template large object", `SELECT lo_unlink(body) FROM documents`, recycle.CauseLargeObject, "large object of the template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := clone(t, tpl)
			runSpec(t, db, specWork{name: tc.name, sql: tc.sql})
			rep, err := recycle.Reset(context.Background(), connect(t, db))
			if err != nil || rep.Outcome != recycle.Replace || rep.Cause != tc.cause || !strings.Contains(rep.Reason, tc.reason) {
				t.Fatalf("Reset = %+v, %v\nwant replace, cause %s, reason containing %q", rep, err, tc.cause, tc.reason)
			}
			t.Logf("%s: %s", rep.Cause, rep.Reason)
		})
	}
}

// A failed CREATE INDEX CONCURRENTLY commits an invalid index before it
// fails, and its ddl_command_end never fires.
func TestFailedConcurrentIndexForcesReplace(t *testing.T) {
	ctx := context.Background()
	db := clone(t, build(t, "shop+seed", shopSources()...))
	conn := connect(t, db)
	mustExec(t, conn, `INSERT INTO orders (user_id) VALUES (1)`)
	if _, err := conn.Exec(ctx, `CREATE UNIQUE INDEX CONCURRENTLY one_order_each ON orders (user_id)`); err == nil {
		t.Fatal("the unique index was built over duplicates")
	}
	rep, err := recycle.Reset(ctx, conn)
	if err != nil || rep.Cause != recycle.CauseSchema || !strings.Contains(rep.Reason, "pg_") {
		t.Fatalf("Reset = %+v, %v", rep, err)
	}
	t.Log(rep.Reason)
}

func TestSnapshotIsReadOnly(t *testing.T) {
	db := clone(t, build(t, "shop+seed", shopSources()...))
	_, err := connect(t, db).Exec(context.Background(), `DELETE FROM pgginkgo.seed_rows`)
	if err == nil || !strings.Contains(err.Error(), "pgginkgo: pgginkgo.seed_rows holds the template snapshot used to reset this database and is read-only") {
		t.Fatalf("deleting the snapshot: %v", err)
	}
}

func TestOpenSessionForcesReplaceAfterWaiting(t *testing.T) {
	db := clone(t, build(t, "shop+seed", shopSources()...))
	leaked := connect(t, db)
	mustExec(t, leaked, `SET application_name = 'leaky-spec'`)
	start := time.Now()
	rep, err := recycle.Options{SessionWait: 50 * time.Millisecond}.Reset(context.Background(), connect(t, db))
	if err != nil || rep.Cause != recycle.CauseBusy || !strings.Contains(rep.Reason, `application_name 'leaky-spec'`) {
		t.Fatalf("Reset = %+v, %v", rep, err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("gave up after %v, before SessionWait", waited)
	}
}

// TestAllowedSessionsMustStayIdle: a session the caller vouches for with
// Options.Allow does not make the database busy while it is idle, and
// does as soon as it is not; sessions it does not list still do.
func TestAllowedSessionsMustStayIdle(t *testing.T) {
	db := clone(t, build(t, "shop+seed", shopSources()...))
	held := connect(t, db)
	mustExec(t, held, `INSERT INTO users (email, name) VALUES ('held@example.com', 'held')`)
	var pid uint32
	if err := held.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	reset := connect(t, db)
	if err := recycle.Dedicate(context.Background(), reset); err != nil {
		t.Fatal(err)
	}
	opts := recycle.Options{SessionWait: 20 * time.Millisecond, Allow: []uint32{pid}}
	if rep, err := opts.Reset(context.Background(), reset); err != nil || rep.Outcome != recycle.Recycled {
		t.Fatalf("Reset with the idle session allowed = %+v, %v", rep, err)
	}
	var n int
	if err := held.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE name = 'held'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the allowed session sees %d rows of its own insert after the reset (%v)", n, err)
	}

	mustExec(t, held, `BEGIN`)
	rep, err := opts.Reset(context.Background(), reset)
	if err != nil || rep.Cause != recycle.CauseBusy || !strings.Contains(rep.Reason, "idle in transaction") {
		t.Fatalf("Reset while the allowed session is in a transaction = %+v, %v", rep, err)
	}
	mustExec(t, held, `ROLLBACK`)

	// The allowance does not outlive the call that gave it.
	rep, err = recycle.Options{SessionWait: 20 * time.Millisecond}.Reset(context.Background(), reset)
	if err != nil || rep.Cause != recycle.CauseBusy || !strings.Contains(rep.Reason, fmt.Sprintf("pid %d", pid)) {
		t.Fatalf("Reset without Allow = %+v, %v", rep, err)
	}
}

func TestTooManySeedRowsForceReplace(t *testing.T) {
	db := clone(t, build(t, "shop+seed", shopSources()...))
	conn := connect(t, db)
	mustExec(t, conn, `UPDATE products SET price = price + 1`)
	rep, err := recycle.Options{MaxReseedRows: 2}.Reset(context.Background(), conn)
	if err != nil || rep.Cause != recycle.CauseTooLarge {
		t.Fatalf("Reset = %+v, %v", rep, err)
	}
}

func TestTriggersThatFireInReplicaModeForceReplace(t *testing.T) {
	tpl := build(t, "always-trigger", template.Func("always-trigger v1", func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `
			CREATE TABLE items (id int PRIMARY KEY);
			CREATE TABLE item_log (id int);
			CREATE FUNCTION log_item() RETURNS trigger LANGUAGE plpgsql AS
				'BEGIN INSERT INTO item_log VALUES (OLD.id); RETURN OLD; END';
			CREATE TRIGGER log_delete AFTER DELETE ON items FOR EACH ROW EXECUTE FUNCTION log_item();
			ALTER TABLE items ENABLE ALWAYS TRIGGER log_delete;
			INSERT INTO items VALUES (1), (2);`)
		return err
	}))
	db := clone(t, tpl)
	conn := connect(t, db)
	mustExec(t, conn, `INSERT INTO items VALUES (3)`)
	rep, err := recycle.Reset(context.Background(), conn)
	if err != nil || rep.Cause != recycle.CauseTriggers || !strings.Contains(rep.Reason, "public.items") {
		t.Fatalf("Reset = %+v, %v", rep, err)
	}
	// Tables without such triggers still recycle.
	db2 := clone(t, tpl)
	conn2 := connect(t, db2)
	mustExec(t, conn2, `INSERT INTO item_log VALUES (9)`)
	if rep, err := recycle.Reset(context.Background(), conn2); err != nil || rep.Outcome != recycle.Recycled {
		t.Fatalf("Reset = %+v, %v", rep, err)
	}
}

func TestResetWithoutTrackingIsAnError(t *testing.T) {
	a := adminFor(t)
	name := "rtest_untracked"
	if err := a.Clone(context.Background(), "template0", name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Drop(context.Background(), name) })
	rep, err := recycle.Reset(context.Background(), connect(t, name))
	if !errors.Is(err, recycle.ErrNotInstalled) || rep.Outcome != recycle.Replace || rep.Cause != recycle.CauseError {
		t.Fatalf("Reset = %+v, %v", rep, err)
	}
	if err := recycle.Warm(context.Background(), connect(t, name)); !errors.Is(err, recycle.ErrNotInstalled) {
		t.Fatalf("Warm = %v", err)
	}
}
