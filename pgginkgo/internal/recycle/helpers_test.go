package recycle_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template/pgtest"
)

var srv *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &srv)) }

// tb is what the helpers need from tests and benchmarks alike.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	Logf(format string, args ...any)
}

func connect(t tb, db string) *pgx.Conn {
	t.Helper()
	conn, err := srv.Connect(context.Background(), db)
	if err != nil {
		t.Fatalf("connecting to %s: %v", db, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func builder() template.Builder {
	return template.Builder{Connect: srv.Connect, Prefix: "rtest"}
}

// shopSources is the realistic schema of testdata/shop plus its seed rows.
func shopSources() []template.Migrator {
	return []template.Migrator{
		template.SQLFiles(os.DirFS("testdata/shop")),
		template.SQLFiles(os.DirFS("testdata/seed")),
	}
}

func build(t tb, name string, sources ...template.Migrator) template.Built {
	t.Helper()
	b, err := builder().Build(context.Background(), template.Template{Name: name, Sources: sources})
	if err != nil {
		t.Fatalf("building template %q: %v", name, err)
	}
	return b
}

var admin atomic.Pointer[template.Admin]

func adminFor(t tb) *template.Admin {
	t.Helper()
	if a := admin.Load(); a != nil {
		return a
	}
	conn, err := srv.Connect(context.Background(), "postgres")
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	a, err := template.NewAdmin(context.Background(), conn)
	if err != nil {
		t.Fatalf("admin: %v", err)
	}
	admin.Store(a)
	return a
}

var cloneSeq atomic.Int64

// clone makes a fresh database from the template and drops it at cleanup.
func clone(t tb, tpl template.Built) string {
	t.Helper()
	name := fmt.Sprintf("rtest_clone_%d_%d", os.Getpid(), cloneSeq.Add(1))
	a := adminFor(t)
	if err := a.Clone(context.Background(), tpl.Database, name); err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := a.Drop(context.Background(), name); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return name
}

func mustExec(t tb, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func inspect(t tb, conn *pgx.Conn) *recycle.State {
	t.Helper()
	s, err := recycle.Inspect(context.Background(), conn)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return s
}

var serverVersionNum atomic.Int64

// serverVersion is the test server's server_version_num, e.g. 150018.
func serverVersion(t tb) int {
	t.Helper()
	if v := serverVersionNum.Load(); v != 0 {
		return int(v)
	}
	var v int
	if err := connect(t, "postgres").QueryRow(context.Background(), `SELECT pg_catalog.current_setting('server_version_num')::int`).Scan(&v); err != nil {
		t.Fatalf("reading the server version: %v", err)
	}
	serverVersionNum.Store(int64(v))
	return v
}
