package dbmatemigrator

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/amacneil/dbmate/v2/pkg/dbmate"
	"github.com/amacneil/dbmate/v2/pkg/driver/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgginkgo/pgginkgo/migrators/internal/adapter"
)

// scheme is the URL scheme of the dbmate driver this package registers:
// dbmate's own postgres driver, which keeps the migrations table as dbmate
// does, but whose database/sql handles are pgx's on the template being
// built rather than lib/pq's opened from a URL. The scheme is private to
// Migrate and Fingerprint.
const scheme = "pgginkgo-dbmate"

// keyParam is the URL parameter naming the registration a driver serves.
const keyParam = "pgginkgo_registration"

func init() { dbmate.RegisterDriver(newDriver, scheme) }

// registrations holds the connections that drivers of the private scheme
// serve, by key; a nil connection lists migration files without a
// database. dbmate builds its drivers from a URL alone, so the URL carries
// the key and the connection stays here, password and all.
var registrations = struct {
	sync.Mutex
	next  uint64
	conns map[string]*pgx.Conn
}{conns: map[string]*pgx.Conn{}}

// register makes conn reachable by dbmate through the returned URL until
// release is called. The URL describes conn's database (user, host or
// socket directory, port and database from its config) and never holds
// the password.
func register(conn *pgx.Conn) (u *url.URL, release func()) {
	registrations.Lock()
	registrations.next++
	key := strconv.FormatUint(registrations.next, 10)
	registrations.conns[key] = conn
	registrations.Unlock()

	var cfg *pgx.ConnConfig
	if conn != nil {
		cfg = conn.Config()
	}
	return registrationURL(cfg, key), func() {
		registrations.Lock()
		delete(registrations.conns, key)
		registrations.Unlock()
	}
}

// registrationURL is the private-scheme URL of registration key: the
// user, host (or unix-socket directory), port and database of cfg, which
// dbmate may read, and never the password. A nil cfg, for listing files,
// names no database.
func registrationURL(cfg *pgx.ConnConfig, key string) *url.URL {
	q := url.Values{keyParam: {key}}
	u := &url.URL{Scheme: scheme, Host: "offline", Path: "/"}
	if cfg != nil {
		port := strconv.Itoa(int(cfg.Port))
		u.User = url.User(cfg.User)
		u.Path = "/" + cfg.Database
		if strings.HasPrefix(cfg.Host, "/") {
			// A unix-socket directory, as libpq URLs spell it.
			q.Set("host", cfg.Host)
			u.Host = ":" + port
		} else {
			u.Host = net.JoinHostPort(cfg.Host, port)
		}
	}
	u.RawQuery = q.Encode()
	return u
}

// pgDriver is dbmate's postgres driver with its connections replaced.
type pgDriver struct {
	dbmate.Driver // dbmate's postgres driver: the migrations table
	log           io.Writer
	table         string
	conn          *pgx.Conn // nil: listing files, no database
	registered    bool
}

func newDriver(cfg dbmate.DriverConfig) dbmate.Driver {
	key := ""
	if cfg.DatabaseURL != nil {
		key = cfg.DatabaseURL.Query().Get(keyParam)
	}
	registrations.Lock()
	conn, ok := registrations.conns[key]
	registrations.Unlock()
	return &pgDriver{Driver: postgres.NewDriver(cfg), log: cfg.Log, table: cfg.MigrationsTableName, conn: conn, registered: ok}
}

var errNoDatabase = errors.New("dbmatemigrator: no database while listing migrations")

// Open returns a pgx database/sql handle on the registered connection's
// database; dbmate closes it.
func (d *pgDriver) Open() (*sql.DB, error) {
	switch {
	case !d.registered:
		return nil, fmt.Errorf("dbmatemigrator: the %s:// URL scheme only works inside dbmatemigrator's Migrate; use a postgres:// URL", scheme)
	case d.conn == nil:
		return sql.OpenDB(offline{}), nil
	}
	return adapter.SQLDB(d.conn), nil
}

// Ping opens a handle of Open's, as dbmate's Ping would with its own.
func (d *pgDriver) Ping() error {
	db, err := d.Open()
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

// MigrationsTableExists is false while listing files, so that dbmate's
// FindMigrations runs without a database.
func (d *pgDriver) MigrationsTableExists(db *sql.DB) (bool, error) {
	if d.conn == nil {
		return false, nil
	}
	return d.Driver.MigrationsTableExists(db)
}

// CreateMigrationsTable creates the schema the table names when it does
// not exist, as dbmate's driver does for lib/pq errors only.
func (d *pgDriver) CreateMigrationsTable(db *sql.DB) error {
	err := d.Driver.CreateMigrationsTable(db)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3F000" {
		return err
	}
	schema := "public"
	if s, _, ok := strings.Cut(d.table, "."); ok {
		schema = s
	}
	var quoted string
	if err := db.QueryRow("select quote_ident($1)", schema).Scan(&quoted); err != nil {
		return err
	}
	fmt.Fprintf(d.log, "Creating schema: %s\n", quoted)
	if _, err := db.Exec("create schema if not exists " + quoted); err != nil {
		return err
	}
	return d.Driver.CreateMigrationsTable(db)
}

// QueryError reports where in the migration a pgx error points, as
// dbmate's driver does for lib/pq errors.
func (d *pgDriver) QueryError(query string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return &dbmate.QueryError{Err: err, Query: query, Position: int(pgErr.Position)}
	}
	return d.Driver.QueryError(query, err)
}

// errTemplateOnly refuses what a template build never needs, and what
// dbmate's driver would do over lib/pq connections of its own.
func errTemplateOnly(what string) error {
	return fmt.Errorf("dbmatemigrator: %s is not available: pgginkgo creates and drops template databases itself", what)
}

// DatabaseExists is not available.
func (d *pgDriver) DatabaseExists() (bool, error) { return false, errTemplateOnly("DatabaseExists") }

// CreateDatabase is not available.
func (d *pgDriver) CreateDatabase() error { return errTemplateOnly("CreateDatabase") }

// DropDatabase is not available.
func (d *pgDriver) DropDatabase() error { return errTemplateOnly("DropDatabase") }

// DumpSchema is not available.
func (d *pgDriver) DumpSchema(*sql.DB) ([]byte, error) { return nil, errTemplateOnly("DumpSchema") }

// offline is a database/sql connector that never connects: the handle
// Open returns while FindMigrations lists files.
type offline struct{}

func (offline) Connect(context.Context) (driver.Conn, error) { return nil, errNoDatabase }
func (offline) Driver() driver.Driver                        { return offline{} }
func (offline) Open(string) (driver.Conn, error)             { return nil, errNoDatabase }
