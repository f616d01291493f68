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
