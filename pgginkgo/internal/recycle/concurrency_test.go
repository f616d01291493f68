package recycle_test

import (
	"context"
	"testing"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
)

// TestTrackingAddsNoLockWaits: two transactions that write the same tables
// in opposite order never wait on each other in PostgreSQL; the change log
// must not make them (a unique index on it would, and could deadlock).
func TestTrackingAddsNoLockWaits(t *testing.T) {
	ctx := context.Background()
	tpl := build(t, "shop+seed", shopSources()...)
	db := clone(t, tpl)
	a, b := connect(t, db), connect(t, db)
	for _, c := range []string{"BEGIN", "SET LOCAL lock_timeout = '2s'"} {
		mustExec(t, a, c)
		mustExec(t, b, c)
	}
	mustExec(t, a, `INSERT INTO users (email, name) VALUES ('a@example.com', 'A')`)
	mustExec(t, b, `INSERT INTO products (sku, title, price) VALUES ('b', 'B', 1)`)
	mustExec(t, b, `INSERT INTO users (email, name) VALUES ('b@example.com', 'B')`)
	mustExec(t, a, `INSERT INTO products (sku, title, price) VALUES ('a', 'A', 1)`)
	mustExec(t, a, "COMMIT")
	mustExec(t, b, "COMMIT")
	a.Close(ctx)
	b.Close(ctx)

	maint := connect(t, db)
	rep, err := recycle.Reset(ctx, maint)
	if err != nil || rep.Outcome != recycle.Recycled || len(rep.Tables) != 2 {
		t.Fatalf("Reset = %+v, %v", rep, err)
	}
	want := inspect(t, connect(t, clone(t, tpl)))
	if d := inspect(t, maint).Diff(want, 20); d != "" {
		t.Fatalf("recycled database differs:\n%s", d)
	}
}

// TestCleanSessionLetsASpecConnectionReset: the spec's own connection,
// left in a failed transaction as a different role, with a temporary table,
// an advisory lock and odd settings, can run Reset after CleanSession.
func TestCleanSessionLetsASpecConnectionReset(t *testing.T) {
	ctx := context.Background()
	tpl := build(t, "shop+seed", shopSources()...)
	db := clone(t, tpl)
	conn := connect(t, db)
	if err := recycle.Warm(ctx, conn); err != nil {
		t.Fatal(err)
	}
	mustExec(t, conn, `SET search_path = nowhere; SET session_replication_role = replica`)
	mustExec(t, conn, `SELECT pg_advisory_lock(42)`)
	mustExec(t, conn, `CREATE TEMP TABLE scratch (x int); INSERT INTO public.users (email, name) VALUES ('t@example.com', 'T')`)
	mustExec(t, conn, `SET ROLE pgginkgo_app`)
	mustExec(t, conn, `PREPARE q AS SELECT 1`)
	mustExec(t, conn, `BEGIN`)
	if _, err := conn.Exec(ctx, `SELECT 1/0`); err == nil {
		t.Fatal("no error")
	}
	if err := recycle.CleanSession(ctx, conn); err != nil {
		t.Fatal(err)
	}
	rep, err := recycle.Reset(ctx, conn)
	if err != nil || rep.Outcome != recycle.Recycled {
		t.Fatalf("Reset = %+v, %v", rep, err)
	}
	want := inspect(t, connect(t, clone(t, tpl)))
	if d := inspect(t, conn).Diff(want, 20); d != "" {
		t.Fatalf("recycled database differs:\n%s", d)
	}
	var locks int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'`).Scan(&locks); err != nil || locks != 0 {
		t.Errorf("advisory locks left: %d (%v)", locks, err)
	}
}
