package pgginkgo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
)

// EnvServerURL names the variable that switches a suite to an existing
// server, as the Server option does; the option wins.
const EnvServerURL = "PGGINKGO_SERVER_URL"

// urlSource is how the messages name where the server URL is set.
const urlSource = "the server URL (" + EnvServerURL + " or pgginkgo.Server)"

// Server runs the suite on the existing PostgreSQL server at serverURL
// (postgres://user[:password]@host[:port]/database?sslmode=...) instead of
// starting a cluster. The database of the URL is the maintenance database
// pgginkgo connects to to create and drop others. The password comes from
// the URL, PGPASSWORD or a passfile, as libpq finds it, and reaches the
// run's processes through a 0600 passfile only. See docs/users-guide.md,
// "An existing server".
func Server(serverURL string) ClusterOption { return func(c *config) { c.serverURL = serverURL } }

// ServerRetention sets how long, on an existing server, a kept database
// outlives its run (default 24 h) and how long a template may go unused
// (default 7 days) before a run's start, or `pgginkgo gc --server`, drops it.
func ServerRetention(kept, unusedTemplates time.Duration) ClusterOption {
	return func(c *config) {
		if kept <= 0 || unusedTemplates <= 0 {
			c.errs = append(c.errs, fmt.Errorf("ServerRetention(%v, %v): both must be positive", kept, unusedTemplates))
			return
		}
		c.keptTTL, c.templateTTL = kept, unusedTemplates
	}
}

// target is a parsed server URL: where to connect, and what to tell
// clients, without the password.
type target struct {
	conn     *pgx.ConnConfig
	shown    string            // the URL without its password, for messages
	params   map[string]string // the URL's parameters besides the password
	password string            // where the password came from, for messages: "from the URL"
}

// libpqEnv maps URL parameters to the variables psql and other libpq
// clients read.
var libpqEnv = map[string]string{
	"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
	"sslcrl": "PGSSLCRL", "sslsni": "PGSSLSNI", "connect_timeout": "PGCONNECT_TIMEOUT",
	"target_session_attrs": "PGTARGETSESSIONATTRS", "options": "PGOPTIONS", "gssencmode": "PGGSSENCMODE",
	"channel_binding": "PGCHANNELBINDING", "require_auth": "PGREQUIREAUTH",
}

// parseTarget reads a server URL the way libpq does (PG* variables and
// the passfile fill what it leaves out) and refuses what pgginkgo cannot
// hand to its processes.
func parseTarget(raw string) (*target, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("pgginkgo: the server URL is not a postgres:// URL; write it as postgres://user@host:port/database?sslmode=require")
	}
	t := &target{params: map[string]string{}, password: "none was given"}
	if _, ok := u.User.Password(); ok {
		t.password = "from the URL"
		u.User = url.User(u.User.Username())
	} else if os.Getenv("PGPASSWORD") != "" {
		t.password = "from PGPASSWORD"
	}
	q := u.Query()
	q.Del("password")
	t.shown = (&url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host, Path: u.Path, RawQuery: q.Encode()}).String()
	if strings.Contains(u.Host, ",") {
		return nil, fmt.Errorf("pgginkgo: the server URL %s names several hosts; name the one server the run should use", t.shown)
	}
	for k, v := range q {
		switch k {
		case "host", "hostaddr", "port", "user", "dbname", "passfile":
			continue
		}
		t.params[k] = v[len(v)-1]
	}
	cc, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("pgginkgo: parsing the server URL %s: %v", t.shown, redactErr(err, raw))
	}
	if t.password == "none was given" && cc.Password != "" {
		t.password = "from a passfile"
	}
	if cc.Database == "" {
		cc.Database = cc.User
	}
	if _, ok := t.params["sslmode"]; !ok {
		t.params["sslmode"] = "prefer" // libpq's default, which pgx shares
	}
	cc.RuntimeParams["application_name"] = "pgginkgo"
	t.conn = cc
	return t, nil
}

// redactErr keeps a URL that holds a password out of an error's text.
func redactErr(err error, raw string) string {
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
			msg = strings.ReplaceAll(msg, url.QueryEscape(pw), "xxxxx")
		}
	}
	return msg
}

// checkServer connects as the run will and says, for each thing that is
// missing, how to fix it: the server's reachability, the role's password,
// the maintenance database, the version and the role's privileges.
func checkServer(ctx context.Context, t *target) (conn *pgx.Conn, version string, superuser bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cc := t.conn.Copy()
	conn, err = pgx.ConnectConfig(cctx, cc)
	if err != nil {
		return nil, "", false, connectHint(err, t)
	}
	defer func() {
		if err != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	version = strings.Fields(conn.PgConn().ParameterStatus("server_version") + " ?")[0]
	if major := binaries.Major(version); major < 13 {
		return conn, version, false, fmt.Errorf("pgginkgo: the server at %s is PostgreSQL %s; pgginkgo needs PostgreSQL 13 or newer: upgrade the server, or point %s at a newer one",
			t.shown, version, urlSource)
	}
	var createdb bool
	if err := conn.QueryRow(ctx, `SELECT rolsuper, rolcreatedb FROM pg_catalog.pg_roles WHERE rolname = current_user`).Scan(&superuser, &createdb); err != nil {
		return conn, version, false, fmt.Errorf("pgginkgo: reading the privileges of role %q on %s: %w", cc.User, t.shown, err)
	}
	if !superuser && !createdb {
		return conn, version, false, fmt.Errorf("pgginkgo: role %q may not create databases on %s, and pgginkgo creates one per spec: grant it with ALTER ROLE %s CREATEDB (pgginkgo then clones a database per spec), or connect as a superuser (which also lets pgginkgo recycle them)",
			cc.User, t.shown, sqlquote.Ident(cc.User))
	}
	return conn, version, superuser, nil
}

// connectHint turns a failed connection into what to fix.
func connectHint(err error, t *target) error {
	where := t.shown
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01":
			return fmt.Errorf("pgginkgo: the server at %s refused the password of role %q (%s): %s; fix the password in %s, PGPASSWORD or the passfile",
				where, t.conn.User, t.password, pgErr.Message, urlSource)
		case "28000":
			return fmt.Errorf("pgginkgo: the server at %s refused role %q: %s; check the user in %s and the server's pg_hba.conf", where, t.conn.User, pgErr.Message, urlSource)
		case "3D000":
			return fmt.Errorf("pgginkgo: %s: %s; name an existing database in the URL (pgginkgo uses it as its maintenance database, e.g. postgres)", where, pgErr.Message)
		}
		return fmt.Errorf("pgginkgo: connecting to %s: %s (SQLSTATE %s)", where, pgErr.Message, pgErr.Code)
	}
	return fmt.Errorf("pgginkgo: cannot reach the server at %s: %v; check the host and port in %s, and that the server accepts TCP connections from this machine",
		net.JoinHostPort(t.conn.Host, strconv.Itoa(int(t.conn.Port))), errors.Unwrap(err), urlSource)
}

// runDirPrefix starts the name of a run's directory in os.TempDir().
const runDirPrefix = "pgginkgo-run-"

// writePassFile gives the run's processes the password in a file only the
// test's account can read, in a directory of its own, which also records
// the pid of process 1 so that a later run can remove it if this one is
// killed (see sweepRunDirs).
func writePassFile(cc *pgx.ConnConfig) (dir, path string, err error) {
	sweepRunDirs()
	dir, err = os.MkdirTemp("", runDirPrefix)
	if err != nil {
		return "", "", fmt.Errorf("pgginkgo: creating the run's directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("pgginkgo: writing the run's directory: %w", err)
	}
	esc := strings.NewReplacer(`\`, `\\`, `:`, `\:`)
	line := ""
	if cc.Password != "" {
		line = fmt.Sprintf("%s:%d:*:%s:%s\n", esc.Replace(cc.Host), cc.Port, esc.Replace(cc.User), esc.Replace(cc.Password))
		if strings.HasPrefix(cc.Host, "/") { // libpq looks a socket up as localhost
			line += fmt.Sprintf("localhost:%d:*:%s:%s\n", cc.Port, esc.Replace(cc.User), esc.Replace(cc.Password))
		}
	}
	path = filepath.Join(dir, "pgpass")
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("pgginkgo: writing the passfile: %w", err)
	}
	return dir, path, nil
}

// serverHandle describes an existing server as every process will see it.
func serverHandle(t *target, passFile, version, runID string, superuser bool) *Handle {
	cc := t.conn
	h := &Handle{
		Format: HandleFormat, Host: cc.Host, Port: int(cc.Port), User: cc.User, PassFile: passFile,
		Version: version, Database: cc.Database, External: true, RunID: runID, CloneOnly: !superuser,
		Params: t.params,
	}
	h.Env = map[string]string{
		"PGHOST": h.Host, "PGPORT": strconv.Itoa(h.Port), "PGUSER": h.User,
		"PGDATABASE": h.Database, "PGPASSFILE": passFile,
	}
	for k, v := range t.params {
		if name, ok := libpqEnv[k]; ok {
			h.Env[name] = v
		}
	}
	return h
}

// sweepRunDirs removes the directories, and with them the passfiles, of
// runs on this machine whose process 1 is gone: a run killed with -9 cannot
// remove its own.
func sweepRunDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), runDirPrefix+"*"))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "pid"))
		if err != nil {
			continue // another account's, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		os.RemoveAll(dir)
	}
}
