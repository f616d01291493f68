package template_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template/pgtest"
)

var srv *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &srv)) }

// testPrefix keeps this package's templates apart from other packages'.
const testPrefix = "ttest"

func builder() template.Builder {
	return template.Builder{Connect: srv.Connect, Prefix: testPrefix}
}

func connect(t *testing.T, db string) *pgx.Conn {
	t.Helper()
	conn, err := srv.Connect(context.Background(), db)
	if err != nil {
		t.Fatalf("connecting to %s: %v", db, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func newAdmin(t *testing.T) *template.Admin {
	t.Helper()
	a, err := template.NewAdmin(context.Background(), connect(t, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var unique atomic.Int64

// uniqueSQL makes a migration whose template no earlier run has built, so
// a test sees a real build rather than a reused template.
func uniqueSQL(t *testing.T) string {
	return fmt.Sprintf("-- %s %d %d\nCREATE TABLE t (id int);\n", t.Name(), time.Now().UnixNano(), unique.Add(1))
}

// databasesLike lists the databases whose name matches a LIKE pattern.
func databasesLike(t *testing.T, pattern string) []string {
	t.Helper()
	rows, err := connect(t, "postgres").Query(context.Background(), `SELECT datname::text FROM pg_database WHERE datname LIKE $1 ORDER BY 1`, pattern)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}
