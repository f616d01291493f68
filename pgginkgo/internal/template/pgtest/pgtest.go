// Package pgtest gives the database-engine tests (template, recycle) their
// PostgreSQL server. It is the one place that decides where that server
// comes from, so switching it touches nothing else.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names a superuser DSN of a running server to test against, e.g.
// postgres://postgres@127.0.0.1:55532/postgres?sslmode=disable.
const EnvDSN = "PGGINKGO_TEST_DSN"

// Server is a running PostgreSQL server with a superuser.
type Server struct {
	base *pgx.ConnConfig
	stop func()
}

// Start connects to the server named by PGGINKGO_TEST_DSN.
func Start(ctx context.Context) (*Server, error) {
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		return nil, fmt.Errorf("these tests need PostgreSQL: set %s to a superuser DSN", EnvDSN)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", EnvDSN, err)
	}
	return &Server{base: cfg, stop: func() {}}, nil
}

// Config returns a connection config for database db.
func (s *Server) Config(db string) *pgx.ConnConfig {
	c := s.base.Copy()
	c.Database = db
	return c
}

// URL returns a connection URL for database db, for command-line tools.
func (s *Server) URL(db string) string {
	c := s.base
	u := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", c.User, c.Host, c.Port, db)
	return u
}

// Connect opens a connection to database db.
func (s *Server) Connect(ctx context.Context, db string) (*pgx.Conn, error) {
	return pgx.ConnectConfig(ctx, s.Config(db))
}

// Close releases the server.
func (s *Server) Close() { s.stop() }

// Main runs a package's tests against a server it starts and stops; call it
// from TestMain.
func Main(m *testing.M, srv **Server) int {
	s, err := Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	*srv = s
	return m.Run()
}
