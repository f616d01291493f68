package extserver_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/extserver"
)

func TestStartFake(t *testing.T) {
	ctx, addr, stop := startFake(t)

	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			// sslmode=prefer: the fake declines SSL and pgx falls back to plain TCP.
			cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://anyone:anything@%s/postgres?sslmode=prefer", addr))
			if err != nil {
				t.Fatal(err)
			}
			cfg.DefaultQueryExecMode = mode
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close(ctx) }()

			if got := conn.PgConn().ParameterStatus("server_version"); got != "12.22" {
				t.Fatalf("server_version = %q; want 12.22", got)
			}
			if got := conn.PgConn().ParameterStatus("server_version_num"); got != "120022" {
				t.Fatalf("server_version_num = %q; want 120022", got)
			}
			var text string
			if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')").Scan(&text); err != nil {
				t.Fatal(err)
			}
			if text != "120022" {
				t.Fatalf("current_setting('server_version_num') = %q; want 120022", text)
			}

			_, err = conn.Exec(ctx, "SELECT 1")
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "0A000" || pgErr.Message != "fake server: unsupported query" {
				t.Fatalf("SELECT 1: err = %v; want SQLSTATE 0A000 fake server: unsupported query", err)
			}

			// The connection survives the error, as with a real server.
			var num int
			if err := conn.QueryRow(ctx, "select current_setting('server_version_num')::int").Scan(&num); err != nil {
				t.Fatal(err)
			}
			if num != 120022 {
				t.Fatalf("current_setting('server_version_num')::int = %d; want 120022", num)
			}
		})
	}

	t.Run("stop", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://u@%s/postgres?sslmode=disable", addr))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close(ctx) }()
		stop()
		stop()
		if err := conn.Ping(ctx); err == nil {
			t.Fatal("an open connection still answers after stop")
		}
		short, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if c, err := pgx.Connect(short, fmt.Sprintf("postgres://u@%s/postgres?sslmode=disable", addr)); err == nil {
			_ = c.Close(ctx)
			t.Fatal("connected after stop")
		}
	})
}

func TestStartFakeBadVersion(t *testing.T) {
	for _, v := range []string{"12", "banana", "9.6", "12.22.1", ""} {
		_, _, err := extserver.StartFake(v)
		want := fmt.Sprintf(`extserver: fake server version %q: want major.minor such as "12.22", or major.minor.patch below 10 such as "9.6.24"`, v)
		if err == nil || err.Error() != want {
			t.Errorf("StartFake(%q): err = %v; want %s", v, err, want)
		}
	}
	for v, want := range map[string]string{"9.6.24": "90624", "10.23": "100023"} {
		addr, stop, err := extserver.StartFake(v)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgconn.Connect(context.Background(), fmt.Sprintf("postgres://u@%s/postgres?sslmode=disable", addr))
		if err != nil {
			t.Fatal(err)
		}
		if got := conn.ParameterStatus("server_version_num"); got != want {
			t.Errorf("StartFake(%q): server_version_num = %q; want %s", v, got, want)
		}
		_ = conn.Close(context.Background())
		stop()
	}
}

// A client that names a statement or portal it never made gets
// PostgreSQL's own error for it.
func TestStartFakeUnknownStatementAndPortal(t *testing.T) {
	ctx, addr, _ := startFake(t)
	pc, err := pgconn.Connect(ctx, fmt.Sprintf("postgres://u@%s/postgres?sslmode=disable", addr))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close(ctx) }()

	err = pc.ExecPrepared(ctx, "nope", nil, nil, nil).Read().Err
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "26000" || pgErr.Message != `prepared statement "nope" does not exist` {
		t.Fatalf(`ExecPrepared("nope"): %v; want SQLSTATE 26000 prepared statement "nope" does not exist`, err)
	}

	fe := pc.Frontend()
	fe.Send(&pgproto3.Execute{Portal: "gone"})
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var got *pgproto3.ErrorResponse
	for {
		msg, err := pc.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := msg.(*pgproto3.ErrorResponse); ok {
			got = e
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	if got == nil || got.Code != "34000" || got.Message != `portal "gone" does not exist` {
		t.Fatalf(`Execute("gone"): %+v; want SQLSTATE 34000 portal "gone" does not exist`, got)
	}
}

// startFake starts a PostgreSQL 12.22 stand-in for the test, stopped with
// it, and a context bounded to a minute.
func startFake(t *testing.T) (ctx context.Context, addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	addr, stop, err := extserver.StartFake("12.22")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop) // stop is idempotent: a test may stop it first
	return ctx, addr, stop
}
