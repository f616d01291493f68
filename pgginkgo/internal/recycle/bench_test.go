package recycle_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// benchSchema is the benchmark schema: 20 tables with primary keys,
// a foreign key chain (t02 → t01, t03 → t02, …), secondary indexes, and
// t01 seeded with 1000 rows.
func benchSchema() template.Migrator {
	var b strings.Builder
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "CREATE TABLE t%02d (\n\tid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n", i)
		if i > 1 {
			fmt.Fprintf(&b, "\tparent_id bigint REFERENCES t%02d (id) ON DELETE CASCADE,\n", i-1)
		}
		b.WriteString("\tname text NOT NULL,\n\tamount numeric(12, 2) NOT NULL DEFAULT 0,\n\tcreated_at timestamptz NOT NULL DEFAULT now()\n);\n")
		fmt.Fprintf(&b, "CREATE INDEX t%02d_name_idx ON t%02d (name);\n", i, i)
		if i > 1 {
			fmt.Fprintf(&b, "CREATE INDEX t%02d_parent_idx ON t%02d (parent_id);\n", i, i)
		}
	}
	b.WriteString("INSERT INTO t01 (name, amount) SELECT 'row ' || g, g FROM generate_series(1, 1000) g;\n")
	// A role for specs that SET ROLE, as applications under test do.
	b.WriteString(`DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgginkgo_bench') THEN CREATE ROLE pgginkgo_bench; END IF;
END $$;
GRANT ALL ON ALL TABLES IN SCHEMA public TO pgginkgo_bench;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO pgginkgo_bench;
`)
	return template.SQLFiles(fstest.MapFS{"001_bench.sql": {Data: []byte(b.String())}})
}

// A spec's worth of writes into three tables, one of them the seeded one.
const benchInserts = `
	INSERT INTO t01 (name) VALUES ('new');
	INSERT INTO t02 (parent_id, name) VALUES (1, 'child');
	INSERT INTO t03 (parent_id, name) SELECT max(id), 'grandchild' FROM t02;`

// BenchmarkReset times Reset after a spec inserted into 3 of 20 tables, on
// a Dedicated connection. The spec's statements run on that connection,
// outside the timer, so the timer sees the reset alone and no backend exit
// (replica mode does not change what these inserts do).
func BenchmarkReset(b *testing.B) {
	benchReset(b, benchInserts)
}

// BenchmarkResetReseed: the spec also updated a row of the 1000-row seeded
// table, so that table is emptied and its 1000 rows re-inserted.
func BenchmarkResetReseed(b *testing.B) {
	benchReset(b, benchInserts+"UPDATE t01 SET amount = amount + 1 WHERE id = 1;")
}

// BenchmarkResetUnchanged: the spec only read.
func BenchmarkResetUnchanged(b *testing.B) {
	benchReset(b, "SELECT count(*) FROM t01")
}

// BenchmarkCleanSessionAndReset is the path a pool takes when it resets
// with the spec's own connection: CleanSession, then Reset, both timed.
// Reset must switch to replica mode there, which flushes the session's
// plans, so it re-plans its checks every time.
func BenchmarkCleanSessionAndReset(b *testing.B) {
	ctx := context.Background()
	db := clone(b, build(b, "bench", benchSchema()))
	conn := connect(b, db)
	if err := recycle.Warm(ctx, conn); err != nil {
		b.Fatal(err)
	}
	var took []time.Duration
	for b.Loop() {
		b.StopTimer()
		mustExec(b, conn, "SET ROLE pgginkgo_bench; SET search_path = public;"+benchInserts)
		b.StartTimer()
		start := time.Now()
		if err := recycle.CleanSession(ctx, conn); err != nil {
			b.Fatal(err)
		}
		rep, err := recycle.Reset(ctx, conn)
		took = append(took, time.Since(start))
		if err != nil || rep.Outcome != recycle.Recycled {
			b.Fatalf("Reset = %+v, %v", rep, err)
		}
	}
	report(b, took, "reset")
}

func benchReset(b *testing.B, spec string) {
	ctx := context.Background()
	db := clone(b, build(b, "bench", benchSchema()))
	conn := connect(b, db)
	if err := recycle.Dedicate(ctx, conn); err != nil {
		b.Fatal(err)
	}
	var took []time.Duration
	for b.Loop() {
		b.StopTimer()
		mustExec(b, conn, spec)
		b.StartTimer()
		start := time.Now()
		rep, err := recycle.Reset(ctx, conn)
		took = append(took, time.Since(start))
		if err != nil || rep.Outcome != recycle.Recycled {
			b.Fatalf("Reset = %+v, %v", rep, err)
		}
	}
	report(b, took, "reset")
}

// report adds the median and the 90th percentile, which say more than the
// mean on a shared machine where other work causes spikes.
func report(b *testing.B, took []time.Duration, what string) {
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(took[len(took)/2]), "p50-ms/"+what)
	b.ReportMetric(ms(took[len(took)*9/10]), "p90-ms/"+what)
}

// BenchmarkResetColdConnection: as BenchmarkReset, but each reset opens a
// new connection, so it pays the connect and the planning a warmed
// connection avoids.
func BenchmarkResetColdConnection(b *testing.B) {
	ctx := context.Background()
	db := clone(b, build(b, "bench", benchSchema()))
	var took []time.Duration
	for b.Loop() {
		b.StopTimer()
		conn := connect(b, db)
		mustExec(b, conn, benchInserts)
		conn.Close(ctx)
		b.StartTimer()
		start := time.Now()
		conn, err := srv.Connect(ctx, db)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := recycle.Reset(ctx, conn)
		conn.Close(ctx)
		took = append(took, time.Since(start))
		if err != nil || rep.Outcome != recycle.Recycled {
			b.Fatalf("Reset = %+v, %v", rep, err)
		}
	}
	report(b, took, "reset")
}

// BenchmarkCloneFresh is the alternative to a reset: CREATE DATABASE …
// TEMPLATE, a first connection, and DROP … WITH (FORCE).
func BenchmarkCloneFresh(b *testing.B) {
	ctx := context.Background()
	tpl := build(b, "bench", benchSchema())
	a := adminFor(b)
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("rtest_bench_clone_%d", i)
		start := time.Now()
		if err := a.Clone(ctx, tpl.Database, name); err != nil {
			b.Fatal(err)
		}
		conn, err := srv.Connect(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		if err := conn.Ping(ctx); err != nil {
			b.Fatal(err)
		}
		conn.Close(ctx)
		if err := a.Drop(ctx, name); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	report(b, took, "clone")
}
