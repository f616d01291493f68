// Package pgtest gives the database-engine tests (template, recycle) their
// PostgreSQL server. It is the one place that decides where that server
// comes from: pgginkgo.Start, or an already running server named by
// PGGINKGO_TEST_DSN when one is set (quicker when iterating).
package pgtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// EnvDSN names a superuser DSN of a running server to test against instead
// of starting one, e.g. postgres://postgres@127.0.0.1:5432/postgres.
const EnvDSN = "PGGINKGO_TEST_DSN"

// Server is a running PostgreSQL server with a superuser.
type Server struct {
	// BinDir holds the server's binaries; "" for PGGINKGO_TEST_DSN.
	BinDir string
	url    func(db string) string
	stop   func() error
}

// Start starts a server with pgginkgo.Start, or uses PGGINKGO_TEST_DSN.
func Start(ctx context.Context) (*Server, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		base, err := url.Parse(dsn)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", EnvDSN, err)
		}
		return &Server{
			url: func(db string) string {
				u := *base
				u.Path = "/" + db
				return u.String()
			},
			stop: func() error { return nil },
		}, nil
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	guard, handle, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv(), pgginkgo.Logger(quiet))
	if err != nil {
		return nil, err
	}
	return &Server{BinDir: handle.BinDir, url: handle.URL, stop: guard.Stop}, nil
}

// URL returns a connection URL for database db; it holds no password.
func (s *Server) URL(db string) string { return s.url(db) }

// Connect opens a connection to database db.
func (s *Server) Connect(ctx context.Context, db string) (*pgx.Conn, error) {
	return pgx.Connect(ctx, s.url(db))
}

// Close stops the server if Start started it.
func (s *Server) Close() error { return s.stop() }

// Main runs a package's tests against a server it starts and stops; call
// it from TestMain.
func Main(m *testing.M, srv **Server) int {
	s, err := Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting PostgreSQL for the tests:", err)
		return 1
	}
	*srv = s
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping PostgreSQL:", err)
		return max(code, 1)
	}
	return code
}
