package recycle_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
)

// A spec's work on its database, run over its own connection, closed
// before the reset as the pool will do.
type specWork struct {
	name string
	sql  string                                          // run as one simple-protocol query, or
	fn   func(ctx context.Context, conn *pgx.Conn) error // for what SQL text cannot do
	// noTrace: the spec leaves nothing to reset (all of it rolled back).
	noTrace bool
	// minServer is the oldest server_version_num with the SQL it runs.
	minServer int
}

// equivalenceSpecs run one after another on the same database. Their order
// matters: some reset a seeded table in full and a later one only inserts
// into it, which exercises the per-table horizon.
var equivalenceSpecs = []specWork{
	{name: "inserts rows and fires a user trigger", sql: `
		INSERT INTO users (email, name) VALUES ('cy@example.com', 'Cy');
		INSERT INTO orders (user_id, note) SELECT id, 'gift' FROM users WHERE email = 'cy@example.com';
		INSERT INTO order_items SELECT max(id), 'tea', 5 FROM orders;
		INSERT INTO products (sku, title, price) VALUES ('pen', 'Pen', 99);
		SELECT nextval('invoice_numbers');`},
	{name: "updates and deletes seed rows, cascading", sql: `
		UPDATE products SET price = price + 1, attrs = attrs || '{"sale": true}' WHERE sku = 'tea';
		DELETE FROM users WHERE email = 'bob@example.com';
		UPDATE orders SET status = 'shipped';`},
	{name: "only inserts into a table that was just restored", sql: `
		INSERT INTO products (sku, title, price, tags) VALUES ('lamp', 'Lamp', 2500, '{home}');
		INSERT INTO users (email, name) VALUES ('dee@example.com', 'Dee');`},
	{name: "truncates with cascade and restart identity", sql: `
		TRUNCATE orders CASCADE;
		TRUNCATE audit_log RESTART IDENTITY;`},
	{name: "moves sequences without writing rows", sql: `
		SELECT setval('invoice_numbers', 5000, false);
		SELECT nextval('orders_id_seq'), nextval('orders_id_seq');
		SELECT setval('users_id_seq', 77);`},
	{name: "creates, writes and unlinks large objects", sql: `
		BEGIN;
		SELECT lowrite(lo_open(lo_create(0), 131072), 'written through a descriptor');
		INSERT INTO documents VALUES (2, lo_from_bytea(0, 'second document'));
		SELECT lo_unlink(lo_from_bytea(0, 'short-lived'));
		COMMIT;`},
	{name: "writes partitions through the parent and directly", sql: `
		INSERT INTO events (at, payload) VALUES ('2024-07-07', 'c');
		UPDATE events SET at = '2025-03-03' WHERE payload = 'a';
		DELETE FROM events_2025 WHERE payload = 'b';
		UPDATE notes SET body = upper(body);`},
	{name: "writes in replica mode, skipping foreign keys and triggers", sql: `
		SET session_replication_role = replica;
		INSERT INTO order_items VALUES (999, 'no-such-sku', 1);
		INSERT INTO orders (user_id, note) VALUES (12345, 'orphan');`},
	{name: "writes through an updatable view", sql: `
		UPDATE customers SET name = 'Ada L.' WHERE email = 'ada@example.com';
		DELETE FROM customers WHERE email = 'bob@example.com';`},
	{name: "copies rows in", fn: func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"products"}, []string{"sku", "title", "price"},
			pgx.CopyFromRows([][]any{{"cup", "Cup", int64(800)}, {"bowl", "Bowl", int64(900)}}))
		return err
	}},
	{name: "writes as an unprivileged role", sql: `
		SET ROLE pgginkgo_app;
		INSERT INTO users (email, name) VALUES ('eve@example.com', 'Eve');
		UPDATE products SET title = 'Green tea' WHERE sku = 'tea';`},
	{name: "upserts", sql: `
		INSERT INTO products (sku, title, price) VALUES ('mug', 'Big mug', 1500)
			ON CONFLICT (sku) DO UPDATE SET title = EXCLUDED.title;`},
	{name: "merges", minServer: 150000, sql: `
		MERGE INTO products p USING (VALUES ('cake', 350), ('pie', 420)) v (sku, price) ON p.sku = v.sku
			WHEN MATCHED THEN UPDATE SET price = v.price
			WHEN NOT MATCHED THEN INSERT (sku, title, price) VALUES (v.sku, 'Pie', v.price);`},
	{name: "rolls back rows but not the identity sequence", sql: `
		BEGIN;
		INSERT INTO users (email, name) VALUES ('gone@example.com', 'Gone');
		ROLLBACK;`},
	{name: "uses a temporary table", sql: `
		CREATE TEMP TABLE scratch AS SELECT * FROM products;
		INSERT INTO users (email, name) SELECT sku || '@example.com', title FROM scratch;`},
	{name: "rewrites values of every kind", sql: `
		SET DateStyle = 'SQL, DMY'; SET IntervalStyle = 'sql_standard'; SET extra_float_digits = 0;
		SET bytea_output = 'escape'; SET search_path = pg_catalog;
		UPDATE public.value_zoo SET txt = 'changed', b = NULL WHERE id = 1;
		DELETE FROM public.value_zoo WHERE id = 2;`},
	{name: "runs DDL and rolls it back", noTrace: true, sql: `
		BEGIN;
		CREATE TABLE later (id int);
		ALTER TABLE users ADD COLUMN nickname text;
		ROLLBACK;`},
}

// TestRecycledDatabaseEqualsFreshClone is the proof the design rests on:
// after each spec's writes and a Reset, the used database cannot be told
// apart from a database cloned fresh from the same template. It runs with
// the default options, with every changed table emptied by TRUNCATE (so
// both ways of emptying a table are proven), and on a Dedicated connection.
func TestRecycledDatabaseEqualsFreshClone(t *testing.T) {
	t.Run("delete", func(t *testing.T) { testEquivalence(t, recycle.Options{}, false) })
	t.Run("truncate", func(t *testing.T) { testEquivalence(t, recycle.Options{TruncateAbove: 1}, false) })
	t.Run("dedicated", func(t *testing.T) { testEquivalence(t, recycle.Options{}, true) })
}

func testEquivalence(t *testing.T, opts recycle.Options, dedicated bool) {
	ctx := context.Background()
	tpl := build(t, "shop+seed", shopSources()...)
	fresh, used := clone(t, tpl), clone(t, tpl)
	want := inspect(t, connect(t, fresh))
	wantDump := pgDump(t, fresh)
	maint := connect(t, used) // the reset connection, never given to a spec
	// Settings that change how values print must not change what a reset
	// restores.
	mustExec(t, maint, `SET DateStyle = 'SQL, DMY'; SET IntervalStyle = 'sql_standard';
		SET extra_float_digits = 0; SET bytea_output = 'escape'`)
	if dedicated {
		if err := recycle.Dedicate(ctx, maint); err != nil {
			t.Fatal(err)
		}
	}
	if d := inspect(t, maint).Diff(want, 20); d != "" {
		t.Fatalf("two fresh clones differ:\n%s", d)
	}
	for round := 1; round <= 2; round++ {
		for _, s := range equivalenceSpecs {
			t.Run(s.name, func(t *testing.T) {
				if v := serverVersion(t); v < s.minServer {
					t.Skipf("needs server_version_num %d or newer; this server is %d", s.minServer, v)
				}
				runSpec(t, used, s)
				if dirty := inspect(t, maint); dirty.Equal(want) != s.noTrace {
					t.Fatalf("after the spec, equal to a fresh clone = %v; the spec does not do what it says", dirty.Equal(want))
				}
				rep, err := opts.Reset(ctx, maint)
				if err != nil || rep.Outcome != recycle.Recycled {
					t.Fatalf("Reset = %+v, %v; want recycled", rep, err)
				}
				t.Logf("round %d: reset %v, %d sequences, %d large objects", round, rep.Tables, rep.Sequences, rep.LargeObjects)
				if d := inspect(t, maint).Diff(want, 30); d != "" {
					t.Fatalf("recycled database differs from a fresh clone:\n%s", d)
				}
				if wantDump != "" {
					if d := firstDiff(pgDump(t, used), wantDump); d != "" {
						t.Fatalf("pg_dump of the recycled database differs from a fresh clone's at %s", d)
					}
				}
			})
		}
	}
}

func runSpec(t *testing.T, db string, s specWork) {
	t.Helper()
	ctx := context.Background()
	conn, err := srv.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if s.fn != nil {
		err = s.fn(ctx, conn)
	} else {
		_, err = conn.Exec(ctx, s.sql)
	}
	conn.Close(ctx)
	if err != nil {
		t.Fatalf("spec %q: %v", s.name, err)
	}
	waitForExit(t, conn.PgConn().PID())
}

// waitForExit waits until the backend with pid has gone. A backend drops
// its temporary tables on its way out, after the client has closed the
// connection, and reading the catalogs while it does so can fail with
// "cache lookup failed for relation"; the reset waits for it the same way.
func waitForExit(t *testing.T, pid uint32) {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, "postgres")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		var alive bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_catalog.pg_stat_activity WHERE pid = $1)`, int32(pid)).Scan(&alive); err != nil {
			t.Fatal(err)
		}
		if !alive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend %d is still there 10s after its client closed", pid)
		}
	}
}
