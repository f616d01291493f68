//go:build linux

package extserver_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/extserver"
)

func TestStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := extserver.Start(ctx, extserver.Options{Settings: map[string]string{"work_mem": "7MB"}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Stop() }()

	t.Run("superuser over TCP", func(t *testing.T) {
		conn := connect(ctx, t, srv.SuperURL())
		var user string
		var port int
		if err := conn.QueryRow(ctx, "select current_user, inet_server_port()").Scan(&user, &port); err != nil {
			t.Fatal(err)
		}
		if wantUser, _ := srv.SuperUser(); user != wantUser || port != srv.Port() {
			t.Fatalf("current_user, inet_server_port() = %q, %d; want %q, %d", user, port, wantUser, srv.Port())
		}
		var workMem string
		if err := conn.QueryRow(ctx, "show work_mem").Scan(&workMem); err != nil {
			t.Fatal(err)
		}
		if workMem != "7MB" {
			t.Fatalf("work_mem = %q; want the 7MB of Options.Settings", workMem)
		}
	})

	t.Run("CREATEDB role", func(t *testing.T) {
		// The password needs URL escaping.
		const password = "p@ss:w/rd?#%'x"
		if err := srv.CreateRole(ctx, "app", password, "CREATEDB"); err != nil {
			t.Fatal(err)
		}
		conn := connect(ctx, t, srv.URL("app", password, ""))
		var user string
		var createdb, super bool
		if err := conn.QueryRow(ctx, "select rolname, rolcreatedb, rolsuper from pg_roles where rolname = current_user").
			Scan(&user, &createdb, &super); err != nil {
			t.Fatal(err)
		}
		if user != "app" || !createdb || super {
			t.Fatalf("role = %q createdb=%v super=%v; want app createdb=true super=false", user, createdb, super)
		}
		if _, err := conn.Exec(ctx, "create database app_db"); err != nil {
			t.Fatalf("create database as a CREATEDB role: %v", err)
		}
	})

	t.Run("CreateRole twice", func(t *testing.T) {
		err := srv.CreateRole(ctx, "app", "x", "")
		if err == nil || !strings.Contains(err.Error(), `extserver: create role "app": ERROR: role "app" already exists (SQLSTATE 42710)`) {
			t.Fatalf("err = %v; want the duplicate role reported", err)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, srv.URL("app", "wrong", ""))
		if err == nil {
			_ = conn.Close(ctx)
			t.Fatal("connected with a wrong password")
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "28P01" || pgErr.Message != `password authentication failed for user "app"` {
			t.Fatalf("err = %v; want SQLSTATE 28P01 password authentication failed for user \"app\"", err)
		}
	})

	t.Run("layout", func(t *testing.T) {
		if !strings.HasPrefix(srv.Dir(), "/dev/shm/pgginkgo-ext-") {
			t.Fatalf("Dir() = %q; want it under /dev/shm", srv.Dir())
		}
		for _, p := range []string{filepath.Join(srv.Dir(), "data", "PG_VERSION"), srv.LogPath()} {
			if _, err := os.Stat(p); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(filepath.Join(srv.Dir(), "pwfile")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the password file outlived initdb: %v", err)
		}
		if filepath.Dir(srv.LogPath()) != srv.Dir() {
			t.Fatalf("LogPath() = %q; want it in %q", srv.LogPath(), srv.Dir())
		}
	})

	t.Run("runs as nobody when root", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("not root: postgres runs as the current user")
		}
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.PID()))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Repeat("\t"+nobody.Uid, 4)
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "Uid:") && line != "Uid:"+want {
				t.Fatalf("postmaster %q; want real, effective, saved and fs uid %s (nobody)", line, nobody.Uid)
			}
		}
	})

	t.Run("Stop", func(t *testing.T) {
		pid, dir := srv.PID(), srv.Dir()
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("signal 0 to the postmaster %d after Stop: %v; want ESRCH", pid, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s after Stop: %v; want it removed", dir, err)
		}
		if err := srv.Stop(); err != nil {
			t.Fatalf("second Stop: %v", err)
		}
	})
}

func TestStartBadInput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("BinDir without initdb", func(t *testing.T) {
		_, err := extserver.Start(ctx, extserver.Options{BinDir: "/nonexistent"})
		want := `extserver: Options.BinDir is "/nonexistent", which holds neither initdb nor bin/initdb; point it at a PostgreSQL installation or its bin directory`
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v; want %s", err, want)
		}
	})

	t.Run("PGGINKGO_BINARIES without initdb", func(t *testing.T) {
		t.Setenv("PGGINKGO_BINARIES", "/nonexistent")
		_, err := extserver.Start(ctx, extserver.Options{})
		want := `extserver: PGGINKGO_BINARIES is "/nonexistent", which holds neither initdb nor bin/initdb; point it at a PostgreSQL installation or its bin directory`
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v; want %s", err, want)
		}
	})

	t.Run("setting postgres rejects", func(t *testing.T) {
		var dir string
		logf := func(format string, args ...any) {
			if d, ok := strings.CutPrefix(fmt.Sprintf(format, args...), "extserver: initdb in "); ok {
				dir = d
			}
		}
		_, err := extserver.Start(ctx, extserver.Options{Settings: map[string]string{"max_connections": "lots"}, Logf: logf})
		if err == nil {
			t.Fatal("Start succeeded with max_connections=lots")
		}
		for _, want := range []string{"extserver: postgres exited before accepting connections (exit status 1)",
			`invalid value for parameter "max_connections": "lots"`} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v; want it to contain %q", err, want)
			}
		}
		if dir == "" {
			t.Fatal("Logf was not told the directory")
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s after a failed Start: %v; want it removed", dir, err)
		}
	})
}

func connect(ctx context.Context, t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// A test of the external-server mode runs the suite against a Server as
// if it were the team's shared one.
func ExampleStart() {
	ctx := context.Background()
	srv, err := extserver.Start(ctx, extserver.Options{})
	if err != nil {
		panic(err)
	}
	defer func() { _ = srv.Stop() }()
	if err := srv.CreateRole(ctx, "ci", "secret", "CREATEDB"); err != nil {
		panic(err)
	}
	fmt.Println(srv.URL("ci", "secret", "postgres"))
}
