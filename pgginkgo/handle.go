package pgginkgo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgpassfile"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// HandleFormat is the version of the Handle's JSON encoding. A process that
// receives a Handle of another format refuses it with a clear error.
const HandleFormat = 1

// Handle describes a running cluster as plain data: safe to copy, encode and
// send to other processes. It holds no secret: clients read the password
// from PassFile, a 0600 file only the test's account can read.
type Handle struct {
	Format    int               `json:"format"`              // HandleFormat at encoding time
	Host      string            `json:"host"`                // always 127.0.0.1
	Port      int               `json:"port"`                // TCP port
	SocketDir string            `json:"socketDir"`           // the private unix-socket directory
	User      string            `json:"user"`                // the superuser
	PassFile  string            `json:"passFile"`            // 0600 libpq passfile with the password
	Version   string            `json:"version"`             // server version, e.g. "15.18"
	Database  string            `json:"database"`            // the default database, "postgres"
	BinDir    string            `json:"binDir,omitempty"`    // the server's binaries; ClientTool finds pg_dump, psql and the like
	Templates map[string]string `json:"templates,omitempty"` // template name → database name
	// DefaultTemplate is the template FreshDatabase uses when none is named.
	DefaultTemplate string `json:"defaultTemplate,omitempty"`
	// Ready lists, per template, databases cloned before the run started
	// (in the migrated image) that the processes of the run share out.
	Ready map[string][]string `json:"ready,omitempty"`
	// Prefetch is the databases per template each process keeps, as
	// process 1 sized it for the run; 0 leaves each process its option.
	Prefetch int `json:"prefetch,omitempty"`
	// Image is the key of the migrated image the cluster holds, if any.
	Image string `json:"image,omitempty"`
	// Env is what every process exports: PGHOST, PGPORT, PGUSER,
	// PGDATABASE, PGPASSFILE and PGSSLMODE (and, on an existing server,
	// the PG* variable of every other connection parameter its URL gives).
	Env map[string]string `json:"env"`

	// External is true on an existing server (Server, PGGINKGO_SERVER_URL):
	// pgginkgo started no cluster, and the run shares the server.
	External bool `json:"external,omitempty"`
	// RunID names this run on an existing server: every database the run
	// creates starts with "pgg_<RunID>_". Empty for an embedded cluster.
	RunID string `json:"runID,omitempty"`
	// CloneOnly is true when the role cannot recycle databases (recycling
	// needs event triggers, which need a superuser): each spec's database
	// is dropped after it and a new clone takes its place.
	CloneOnly bool `json:"cloneOnly,omitempty"`
	// Params are the connection parameters URL adds besides the passfile:
	// sslmode=disable on an embedded cluster, the server URL's own on an
	// existing server.
	Params map[string]string `json:"params,omitempty"`
}

// ErrHandleFormat reports a Handle encoded by a different pgginkgo version.
var ErrHandleFormat = errors.New("unsupported handle format")

// Encode returns the Handle as versioned JSON.
func (h *Handle) Encode() ([]byte, error) {
	c := *h
	c.Format = HandleFormat
	return json.Marshal(c)
}

// DecodeHandle parses what Encode produced.
func DecodeHandle(data []byte) (*Handle, error) {
	var probe struct {
		Format *int `json:"format"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("pgginkgo: decoding handle: not a pgginkgo handle (%v); pass the bytes Handle.Encode returned", err)
	}
	switch {
	case probe.Format == nil:
		return nil, fmt.Errorf("pgginkgo: decoding handle: %w: no format field; pass the bytes Handle.Encode returned", ErrHandleFormat)
	case *probe.Format > HandleFormat:
		return nil, fmt.Errorf("pgginkgo: decoding handle: %w: format %d is newer than this pgginkgo understands (%d); build every process of the suite with the same pgginkgo version", ErrHandleFormat, *probe.Format, HandleFormat)
	case *probe.Format < 1:
		return nil, fmt.Errorf("pgginkgo: decoding handle: %w: format %d is invalid", ErrHandleFormat, *probe.Format)
	}
	var h Handle
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("pgginkgo: decoding handle: %w", err)
	}
	if h.Host == "" || h.Port <= 0 || h.User == "" {
		return nil, fmt.Errorf("pgginkgo: decoding handle: host, port or user missing; pass the bytes Handle.Encode returned")
	}
	return &h, nil
}

// String identifies the cluster without revealing anything secret.
func (h *Handle) String() string {
	what := "pgginkgo cluster"
	if h.External {
		what = "existing server"
	}
	return fmt.Sprintf("%s %s@%s (PostgreSQL %s)", what, h.User, net.JoinHostPort(h.Host, strconv.Itoa(h.Port)), h.Version)
}

// URL returns a connection URL for database dbname ("" for the default
// database). It carries the passfile path, never the password, so it is safe
// to print.
func (h *Handle) URL(dbname string) string {
	if dbname == "" {
		dbname = h.Database
	}
	q := url.Values{}
	q.Set("sslmode", "disable")
	for k, v := range h.Params {
		q.Set(k, v)
	}
	q.Set("passfile", h.PassFile)
	u := url.URL{
		Scheme: "postgres",
		User:   url.User(h.User),
		Host:   net.JoinHostPort(h.Host, strconv.Itoa(h.Port)),
		Path:   "/" + dbname,
	}
	if strings.HasPrefix(h.Host, "/") { // a unix-socket directory
		u.Host = ""
		q.Set("host", h.Host)
		q.Set("port", strconv.Itoa(h.Port))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// passFileWins makes the passfile a URL names beat PGPASSWORD, which pgx,
// like libpq, prefers otherwise: a PGPASSWORD left in the environment for
// something else must not replace the run's password. EnvChanges unsets
// it for the tools a spec runs, for the same reason.
func passFileWins(c *pgconn.Config, rawURL string) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Query().Get("passfile") == "" {
		return
	}
	pf, err := pgpassfile.ReadPassfile(u.Query().Get("passfile"))
	if err != nil {
		return
	}
	if pw := pf.FindPassword(c.Host, strconv.Itoa(int(c.Port)), c.Database, c.User); pw != "" {
		c.Password = pw
	}
}

// psqlURL is URL for the psql commands pgginkgo prints. On an existing
// server it leaves the run's passfile out, since that goes with the run.
func (h *Handle) psqlURL(dbname string) string {
	if !h.External {
		return h.URL(dbname)
	}
	u, err := url.Parse(h.URL(dbname))
	if err != nil {
		return h.URL(dbname)
	}
	q := u.Query()
	q.Del("passfile")
	u.RawQuery = q.Encode()
	return u.String()
}

// ConnConfig returns a parsed pgx config for dbname.
func (h *Handle) ConnConfig(dbname string) (*pgx.ConnConfig, error) {
	u := h.URL(dbname)
	cc, err := pgx.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("pgginkgo: connection config for %q: %w", dbname, err)
	}
	passFileWins(&cc.Config, u)
	return cc, nil
}

// OpenPool opens a new pgx pool on dbname ("" for the default database),
// which the caller must Close. Inside a spec, Database.Pool is the one to
// use: pgginkgo owns it.
//
//	pool, err := pgginkgo.Cluster().OpenPool(ctx, "")
//	if err != nil {
//		return err
//	}
//	defer pool.Close()
func (h *Handle) OpenPool(ctx context.Context, dbname string) (*pgxpool.Pool, error) {
	return h.pool(ctx, dbname, 0)
}

// pool is Pool with at most maxConns connections, or pgxpool's default.
func (h *Handle) pool(ctx context.Context, dbname string, maxConns int32) (*pgxpool.Pool, error) {
	u := h.URL(dbname)
	pc, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("pgginkgo: pool config for %q: %w", dbname, err)
	}
	passFileWins(&pc.ConnConfig.Config, u)
	if maxConns > 0 {
		pc.MaxConns = maxConns
	}
	p, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("pgginkgo: opening pool on %q: %w", dbname, err)
	}
	return p, nil
}

// OpenSQLDB opens a new database/sql handle (pgx's stdlib driver) on
// dbname, which the caller must Close. Inside a spec, Database.SQL is the
// one to use: pgginkgo owns it.
func (h *Handle) OpenSQLDB(dbname string) (*sql.DB, error) {
	cc, err := h.ConnConfig(dbname)
	if err != nil {
		return nil, err
	}
	return stdlib.OpenDB(*cc), nil
}
