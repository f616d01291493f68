package gsql_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "github.com/lib/pq"              // a non-pgx driver, for the database/sql path
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestGsql(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gsql Suite")
}

var (
	// server reaches the PostgreSQL server the suite runs against; the
	// BeforeSuite below is the one place that decides which server that is:
	// the one PGGINKGO_TEST_DSN names, or else one pgginkgo.Start boots.
	server struct {
		url   func(dbname string) string
		admin *pgxpool.Pool // connected to the maintenance database
	}
	// dbName is this process's own database, so parallel processes and
	// other suites on the same server do not meet.
	dbName string
	// pool is a pool on dbName, the actual most specs pass to matchers.
	pool *pgxpool.Pool
)

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	if dsn := os.Getenv("PGGINKGO_TEST_DSN"); dsn != "" {
		// A server of the developer's choosing, such as a local one
		// started by hand, used as given.
		base, err := url.Parse(dsn)
		Expect(err).NotTo(HaveOccurred())
		server.url = func(dbname string) string {
			u := *base
			u.Path = "/" + dbname
			return u.String()
		}
	} else {
		guard, handle, err := pgginkgo.Start(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(guard.Stop()).To(Succeed()) })
		server.url = handle.URL
	}
	maintenance := server.url("postgres")
	server.admin, err = pgxpool.New(ctx, maintenance)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(server.admin.Close)

	dbName = fmt.Sprintf("gsql_test_%d", GinkgoParallelProcess())
	_, err = server.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{dbName}.Sanitize()+" WITH (FORCE)")
	Expect(err).NotTo(HaveOccurred())
	_, err = server.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) {
		_, err := server.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{dbName}.Sanitize()+" WITH (FORCE)")
		Expect(err).NotTo(HaveOccurred())
	})

	pool, err = pgxpool.New(ctx, server.url(dbName))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(pool.Close)
})

// fixture is the schema most specs look at. It is rebuilt before each spec so
// that specs may change it.
const fixture = `
DROP SCHEMA IF EXISTS public CASCADE;
DROP SCHEMA IF EXISTS audit CASCADE;
DROP SCHEMA IF EXISTS "my.schema" CASCADE;
CREATE SCHEMA public;
CREATE SCHEMA audit;
CREATE TABLE audit.events (id bigserial PRIMARY KEY, kind text NOT NULL);
CREATE TYPE job_state AS ENUM ('queued', 'running', 'done', 'failed');
CREATE TABLE jobs (
  id       bigserial PRIMARY KEY,
  queue    text NOT NULL,
  state    job_state NOT NULL DEFAULT 'queued',
  attempts int NOT NULL DEFAULT 0,
  price    numeric(10,2),
  run_at   timestamptz NOT NULL DEFAULT '2024-05-01 12:00:00+00',
  payload  jsonb,
  token    uuid,
  note     varchar(20),
  CONSTRAINT jobs_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX jobs_queue_run_at_idx ON jobs (queue, run_at);
INSERT INTO jobs (queue, state, attempts, price, payload, token) VALUES
  ('mail', 'done',   2, 12.50, '{"to": "ann"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
  ('mail', 'queued', 0, NULL,  NULL,            NULL),
  ('sms',  'failed', 5, 3,     '{"to": "bob", "n": 1}', NULL);
CREATE VIEW active_jobs AS SELECT * FROM jobs WHERE state <> 'done';
CREATE TABLE numbers (n int PRIMARY KEY, word text);
INSERT INTO numbers SELECT i, 'number ' || i FROM generate_series(1, 25) AS i;
`

var _ = BeforeEach(func(ctx SpecContext) {
	exec(ctx, fixture)
})

// exec runs SQL on the spec database, failing the spec if it fails.
func exec(ctx context.Context, sql string, args ...any) {
	GinkgoHelper()
	_, err := pool.Exec(ctx, sql, args...)
	Expect(err).NotTo(HaveOccurred())
}

// openSQL opens a *sql.DB on the spec database with a database/sql driver
// ("pgx" or "postgres"), closed when the spec ends.
func openSQL(driver string) *sql.DB {
	GinkgoHelper()
	u, err := url.Parse(withParams(server.url(dbName), "sslmode=disable"))
	Expect(err).NotTo(HaveOccurred())
	if driver == "postgres" {
		// lib/pq would send passfile to the server as a setting; it reads
		// the PGPASSFILE that pgginkgo.Start exports instead.
		q := u.Query()
		q.Del("passfile")
		u.RawQuery = q.Encode()
	}
	db, err := sql.Open(driver, u.String())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(db.Close)
	return db
}

// openConn opens a *pgx.Conn on the spec database, closed when the spec ends.
func openConn(ctx context.Context, params string) *pgx.Conn {
	GinkgoHelper()
	c, err := pgx.Connect(ctx, withParams(server.url(dbName), params))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) { _ = c.Close(ctx) })
	return c
}

// withParams adds URL query parameters to a connection URL.
func withParams(u, params string) string {
	if strings.Contains(u, "?") {
		return u + "&" + params
	}
	return u + "?" + params
}
