package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgpassfile"
	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// sweepServer is a PostgreSQL server for gc --server to sweep: a cluster
// pgginkgo starts (its test server, extserver, is internal to the pgginkgo
// package), reached by URL with the superuser's password, as a user
// reaches an existing server.
type sweepServer struct {
	user, password, hostPort string
}

func startSweepServer(t *testing.T) *sweepServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	guard, h, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv(), pgginkgo.Offline(),
		pgginkgo.CacheDir(filepath.Join(tempDir(t), "cache")), pgginkgo.Logger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := guard.Stop(); err != nil {
			t.Error(err)
		}
	})
	pf, err := pgpassfile.ReadPassfile(h.PassFile)
	if err != nil {
		t.Fatal(err)
	}
	pw := pf.FindPassword(h.Host, strconv.Itoa(h.Port), "postgres", h.User)
	if pw == "" {
		t.Fatalf("no password for %s in %s", h.User, h.PassFile)
	}
	return &sweepServer{user: h.User, password: pw, hostPort: net.JoinHostPort(h.Host, strconv.Itoa(h.Port))}
}

// url is the server's URL for database db with password pw.
func (s *sweepServer) url(pw, db string) string {
	return (&url.URL{Scheme: "postgres", User: url.UserPassword(s.user, pw), Host: s.hostPort, Path: "/" + db, RawQuery: "sslmode=disable"}).String()
}

// connect opens a session on db as the superuser, closed at the end of
// the test.
func (s *sweepServer) connect(t *testing.T, db string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), s.url(s.password, db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// lease opens a session that holds run's lease, stamped ago before now by
// the server's clock, as a run's process 1 does.
func (s *sweepServer) lease(t *testing.T, run string, ago int) *pgx.Conn {
	conn := s.connect(t, "postgres")
	mustExec(t, conn, fmt.Sprintf(`SELECT set_config('application_name', 'pgginkgo lease %s ' || (floor(extract(epoch from clock_timestamp()))::bigint - %d), false)`, run, ago))
	return conn
}

// databases lists the databases a sweep may look at.
func databases(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT datname FROM pg_database WHERE datname LIKE 'pgg\_%' OR datname LIKE 'pgginkgo\_tpl\_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// expectLines fails the test unless stdout holds exactly want, in any
// order.
func expectLines(t *testing.T, r result, want ...string) {
	t.Helper()
	got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("stdout lines:\n  %s\nwant:\n  %s\n%s", strings.Join(got, "\n  "), strings.Join(want, "\n  "), r)
	}
}

func expectDatabases(t *testing.T, conn *pgx.Conn, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := databases(t, conn); !slices.Equal(got, want) {
		t.Errorf("databases left: %v, want %v", got, want)
	}
}

// waitGone waits until pg_stat_activity no longer lists the sessions that
// match cond: a closed session's backend exits after the client.
func waitGone(t *testing.T, conn *pgx.Conn, cond string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE "+cond).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d session(s) with %s still there after 30s", n, cond)
		}
	}
}

func TestGCServer(t *testing.T) {
	srv := startSweepServer(t)
	admin := srv.connect(t, "postgres")
	stamp := func(ago time.Duration) string { return time.Now().Add(-ago).UTC().Format(time.RFC3339) }
	const (
		dead      = "pgg_deadhost_4242_abcdef_schema_p1_1"
		live      = "pgg_livehost_4343_ghijkl_schema_p1_1"
		stale     = "pgg_stalehost_4444_mnopqr_schema_p1_1"
		keptOld   = "pgg_deadhost_4242_abcdef_schema_p1_2"
		keptNew   = "pgg_deadhost_4242_abcdef_schema_p1_3"
		tplOld    = "pgginkgo_tpl_old_0123456789abcdef"
		tplNew    = "pgginkgo_tpl_new_fedcba9876543210"
		busy      = "pgg_deadhost2_4545_stuvwx_schema_p1_1"
		hashTail  = "00112233445566778899aabbccddeeff0011223344556677" // 48 hex digits
		keptSpec  = "some spec"
		templated = "WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
	)
	for _, db := range []string{dead, stale, keptOld, keptNew, tplOld, tplNew, busy} {
		mustExec(t, admin, "CREATE DATABASE "+db)
	}
	// A live run takes its lease before it creates a database.
	liveLease := srv.lease(t, "livehost_4343_ghijkl", 0)
	mustExec(t, admin, "CREATE DATABASE "+live)
	srv.lease(t, "stalehost_4444_mnopqr", 600)

	keptOldAt, keptNewAt := stamp(25*time.Hour), stamp(time.Hour)
	mustExec(t, admin, fmt.Sprintf("COMMENT ON DATABASE %s IS 'pgginkgo kept at %s (failed): %s'", keptOld, keptOldAt, keptSpec))
	mustExec(t, admin, fmt.Sprintf("COMMENT ON DATABASE %s IS 'pgginkgo kept at %s (failed): %s'", keptNew, keptNewAt, keptSpec))
	tplOldAt, tplNewAt := stamp(8*24*time.Hour), stamp(24*time.Hour)
	mustExec(t, admin, fmt.Sprintf("COMMENT ON DATABASE %s IS 'pgginkgo template 0123456789abcdef%s complete; used %s'", tplOld, hashTail, tplOldAt))
	mustExec(t, admin, fmt.Sprintf("COMMENT ON DATABASE %s IS 'pgginkgo template fedcba9876543210%s complete; used %s'", tplNew, hashTail, tplNewAt))
	mustExec(t, admin, "ALTER DATABASE "+tplOld+" "+templated)
	mustExec(t, admin, "ALTER DATABASE "+tplNew+" "+templated)
	onBusy := srv.connect(t, busy)

	superURL := srv.url(srv.password, "postgres")
	r := pgg(t, nil, "gc", "--server", superURL)
	expect(t, r, 0, nil, nil)
	expectLines(t, r,
		"dropped "+dead+": its run deadhost_4242_abcdef has no lease",
		"dropped "+stale+": its run stalehost_4444_mnopqr has no lease",
		"dropped "+keptOld+": kept since "+keptOldAt+", longer than 24h",
		"dropped "+tplOld+": template unused since "+tplOldAt,
		"left "+busy+": its run deadhost2_4545_stuvwx has no lease, but 1 session(s) are connected to it",
		"gc: dropped 4 databases, left 1",
	)
	if !strings.HasSuffix(r.stdout, "gc: dropped 4 databases, left 1\n") {
		t.Errorf("the summary is not the last line\n%s", r)
	}
	if strings.Contains(r.stdout+r.stderr, srv.password) {
		t.Errorf("the output shows the password\n%s", r)
	}
	expectDatabases(t, admin, live, keptNew, tplNew, busy)

	// Without --server, --kept or --templates sweep the server that
	// PGGINKGO_SERVER_URL names; days are a unit.
	r = pgg(t, []string{pgginkgo.EnvServerURL + "=" + superURL}, "gc", "--kept", "30m", "--templates", "0.5d")
	expect(t, r, 0, nil, nil)
	expectLines(t, r,
		"dropped "+keptNew+": kept since "+keptNewAt+", longer than 30m",
		"dropped "+tplNew+": template unused since "+tplNewAt,
		"left "+busy+": its run deadhost2_4545_stuvwx has no lease, but 1 session(s) are connected to it",
		"gc: dropped 2 databases, left 1",
	)
	expectDatabases(t, admin, live, busy)

	// Once the session leaves, and the live run ends without cleaning up,
	// their databases go.
	onBusy.Close(context.Background())
	liveLease.Close(context.Background())
	waitGone(t, admin, fmt.Sprintf("datname = '%s' OR application_name LIKE 'pgginkgo lease livehost%%'", busy))
	r = pgg(t, nil, "gc", "--server", superURL, "--templates", "7d")
	expect(t, r, 0, nil, nil)
	expectLines(t, r,
		"dropped "+busy+": its run deadhost2_4545_stuvwx has no lease",
		"dropped "+live+": its run livehost_4343_ghijkl has no lease",
		"gc: dropped 2 databases, left 0",
	)
	expectDatabases(t, admin)
	r = pgg(t, nil, "gc", "--server", superURL)
	expect(t, r, 0, nil, nil)
	expectLines(t, r, "gc: dropped 0 databases, left 0")

	// A wrong password fails, and the output never shows it.
	const wrong = "wrong-Secret-pw-9876"
	r = pgg(t, nil, "gc", "--server", srv.url(wrong, "postgres"))
	expect(t, r, 1, nil, []string{"pgginkgo gc: the server at postgres://" + srv.user + "@" + srv.hostPort + "/postgres?sslmode=disable refused the password of role"})
	if strings.Contains(r.stdout+r.stderr, wrong) {
		t.Errorf("the output shows the wrong password\n%s", r)
	}
	if r.stdout != "" {
		t.Errorf("a failed sweep printed to stdout\n%s", r)
	}
}

func TestGCServerFailures(t *testing.T) {
	const secret = "unreachable-Secret-pw"
	unreachable := "postgres://someone:" + secret + "@127.0.0.1:1/postgres"
	r := pgg(t, nil, "gc", "--server", unreachable)
	expect(t, r, 1, nil, []string{"pgginkgo gc: cannot reach the server at 127.0.0.1:1", "check the host and port"})
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("the output shows the password\n%s", r)
	}
	r = pgg(t, []string{pgginkgo.EnvServerURL + "=" + unreachable}, "gc", "--kept", "2d")
	expect(t, r, 1, nil, []string{"pgginkgo gc: cannot reach the server at 127.0.0.1:1"})

	r = pgg(t, nil, "gc", "--server", "http://example.com/postgres")
	expect(t, r, 1, nil, []string{"pgginkgo gc: the server URL is not a postgres:// URL"})

	for _, tc := range []struct {
		args []string
		want []string // in stderr
	}{
		{[]string{"gc", "--kept", "24h"}, []string{"pgginkgo gc: no server to sweep: pass --server postgres://user@host:port/postgres, or set PGGINKGO_SERVER_URL", "pgginkgo help gc"}},
		{[]string{"gc", "--server", ""}, []string{"pgginkgo gc: no server to sweep", "set PGGINKGO_SERVER_URL"}},
		{[]string{"gc", "--templates", "7d"}, []string{"no server to sweep"}},
		{[]string{"gc", "--server", unreachable, "--kept", "0"}, []string{`pgginkgo gc: --kept "0": must be positive`, "7d"}},
		{[]string{"gc", "--server", unreachable, "--kept", "-3h"}, []string{`--kept "-3h": must be positive`}},
		{[]string{"gc", "--server", unreachable, "--templates", "0d"}, []string{`--templates "0d": must be positive`}},
		{[]string{"gc", "--server", unreachable, "--templates", "-1d"}, []string{`--templates "-1d": must be positive`}},
		{[]string{"gc", "--server", unreachable, "--kept", "a week"}, []string{`--kept "a week": not a duration`, "Go duration (90m, 24h, 168h)", "days (7d, 1.5d)"}},
		{[]string{"gc", "--server", unreachable, "--kept", "7"}, []string{`--kept "7": not a duration`}},
		{[]string{"gc", "--server", unreachable, "--kept", "1w"}, []string{`--kept "1w": not a duration`}},
		{[]string{"gc", "--server", unreachable, "--kept", "999999999d"}, []string{`--kept "999999999d": too long`}},
		{[]string{"gc", "--server", unreachable, "--kept"}, []string{"flag --kept needs a value"}},
		{[]string{"gc", "--server", unreachable, "--all"}, []string{"pgginkgo gc: --server sweeps a server, and --all is for the image cache; run gc once for each"}},
		{[]string{"gc", "--kept", "1h", "--max-images", "2", "--cache-dir", "/tmp"}, []string{"and --cache-dir, --max-images are for the image cache"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := pgg(t, nil, tc.args...)
			expect(t, r, 2, nil, tc.want)
			if r.stdout != "" {
				t.Errorf("a usage error printed to stdout\n%s", r)
			}
			if strings.Contains(r.stderr, secret) {
				t.Errorf("the output shows the password\n%s", r)
			}
		})
	}

	expect(t, pgg(t, nil, "help", "gc"), 0, []string{"--server URL [--kept 24h] [--templates 168h]", "-server URL", "-kept duration", "(default 24h)",
		"-templates duration", "(default 168h)", "PGGINKGO_SERVER_URL", "7d"}, nil)
	expect(t, pgg(t, nil, "help"), 0, []string{"--server URL sweeps an existing server"}, nil)
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"24h": 24 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour,
		"1.5d": 36 * time.Hour, " 2d ": 48 * time.Hour, "+1d": 24 * time.Hour, "1s": time.Second,
	} {
		got, err := parseRetention(in)
		if err != nil || got != want {
			t.Errorf("parseRetention(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"": "not a duration", "d": "not a duration", "7": "not a duration", "1d12h": "not a duration", "7days": "not a duration",
		"0": "must be positive", "0s": "must be positive", "-1h": "must be positive", "-2d": "must be positive",
		"999999999d": "too long", "9999999999h": "not a duration",
	} {
		if got, err := parseRetention(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseRetention(%q) = %v, %v; want an error with %q", in, got, err, want)
		}
	}
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", 168 * time.Hour: "168h", 90 * time.Minute: "1h30m0s"} {
		if got := formatRetention(d); got != want {
			t.Errorf("formatRetention(%v) = %q, want %q", d, got, want)
		}
	}
}
