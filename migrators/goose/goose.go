package goosemigrator

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"

	"github.com/pgginkgo/pgginkgo/migrators/internal/adapter"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// toolModule is goose's module path, whose version goes into the
// fingerprint (read from goose.NewProvider's source path in test binaries,
// whose build info lists no dependencies).
const toolModule = "github.com/pressly/goose/v3"

// Option configures the goose Migrator that New returns.
type Option func(*migrator)

// migrator holds the migrations and what the options set.
type migrator struct {
	fsys  fs.FS
	table string
	// goSets are the GoMigrations calls, in call order.
	goSets []goSet
	// errs are option mistakes, reported by Fingerprint before the
	// cluster starts rather than by the option itself.
	errs []error
}

// goSet is one GoMigrations call.
type goSet struct {
	revision   string
	migrations []*goose.Migration
}

// TableName makes goose record its versions in the table name instead of
// goose's default, goose_db_version, as goose.WithTableName does. Pass the
// same name your application gives goose, or its Up at start will not
// find the versions the template holds. A schema-qualified name
// ("app.goose_db_version") needs the schema to exist before goose runs.
func TableName(name string) Option {
	return func(c *migrator) {
		if name == "" {
			c.errs = append(c.errs, errors.New("goosemigrator.TableName: the table name is empty; pass the name your application gives goose.WithTableName, or drop the option for goose_db_version"))
			return
		}
		c.table = name
	}
}

// GoMigrations registers goose Go migrations with the provider, as
// goose.WithGoMigrations does: build each with goose.NewGoMigration, and
// pass the same ones your application registers, so that its Up at start
// finds them applied.
//
// revision stands for the Go code's content in the fingerprint, as the
// version of pgginkgo.MigrateFunc does: pgginkgo cannot see inside
// functions, so change revision whenever the Go code changes what it
// does, or later runs keep booting the template the old code built. The
// fingerprint covers each migration's version number and transaction mode
// by itself, and a migration's .go file in the directory (00003_seed.go)
// is part of the files digest like any other file.
//
//	goosemigrator.New(os.DirFS("migrations"),
//		goosemigrator.GoMigrations("seed-v2",
//			goose.NewGoMigration(3, &goose.GoFunc{RunTx: seedProducts}, nil),
//		),
//	)
func GoMigrations(revision string, migrations ...*goose.Migration) Option {
	return func(c *migrator) {
		if revision == "" {
			c.errs = append(c.errs, errors.New("goosemigrator.GoMigrations: the revision is empty; pass a string that stands for the Go code (\"v1\", a date) and change it whenever the code changes"))
			return
		}
		if len(migrations) == 0 {
			c.errs = append(c.errs, fmt.Errorf("goosemigrator.GoMigrations(%q): no migrations given; pass the goose.NewGoMigration values to apply", revision))
			return
		}
		for i, m := range migrations {
			if m == nil {
				c.errs = append(c.errs, fmt.Errorf("goosemigrator.GoMigrations(%q): migration %d is nil; build it with goose.NewGoMigration", revision, i+1))
				return
			}
		}
		c.goSets = append(c.goSets, goSet{revision: revision, migrations: migrations})
	}
}

// New returns a Migrator that applies the goose migrations in fsys with
// goose's own Provider, as goose.NewProvider(goose.DialectPostgres, db,
// fsys) then Provider.Up would, and leaves goose's version table in the
// template.
//
// fsys holds the migrations at its root, as goose's Provider reads them:
// NUMBER_name.sql files, plus .go files for Go migrations. Files whose
// name has no version (helpers.go, README.md) and _test.go files are
// ignored, as goose ignores them. A versioned .go file (00003_seed.go) is
// only a source file to goose: its migration must be registered with
// GoMigrations, or goose reports it unregistered. Go migrations registered
// globally (goose.AddMigrationContext in an init function) are not used,
// because the fingerprint could not account for them: pass them with
// GoMigrations.
func New(fsys fs.FS, opts ...Option) pgginkgo.Migrator {
	return adapter.Apply(&migrator{fsys: fsys}, opts)
}

// Fingerprint checks the migrations as goose's Provider does when it is
// built (names, duplicate versions, unregistered Go files, invalid Go
// migrations), without a database, and identifies them: goose's version,
// the files' digest, the table name and the Go migrations. goose parses
// SQL files only when it applies them, so a malformed annotation surfaces
// in Migrate.
func (m *migrator) Fingerprint(ctx context.Context) (string, error) {
	fp, err := adapter.FilesFingerprint("goosemigrator", "goose", toolModule, goose.NewProvider, m.fsys, m.errs)
	if err != nil {
		return "", err
	}
	if err := m.validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(fp)
	if m.table != "" {
		fmt.Fprintf(&b, ":table=%q", m.table)
	}
	for _, set := range m.goSets {
		fmt.Fprintf(&b, ":go=%q", set.revision)
		for _, gm := range sortedByVersion(set.migrations) {
			fmt.Fprintf(&b, ",%d/%s", gm.Version, upMode(gm))
		}
	}
	return b.String(), nil
}

// Migrate applies the pending migrations with goose's Provider over a
// database/sql handle on the template, closed before it returns.
func (m *migrator) Migrate(ctx context.Context, conn *pgx.Conn) error {
	db := adapter.SQLDB(conn)
	defer db.Close()
	p, err := m.provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("goosemigrator: goose Up: %w; fix the migration it names and run the suite again (the template is rebuilt from scratch)", err)
	}
	return nil
}

// validate builds a Provider on a handle that can never connect:
// goose.NewProvider reads the directory and checks the migrations without
// touching the database.
func (m *migrator) validate() error {
	db := sql.OpenDB(offline{})
	defer db.Close()
	_, err := m.provider(db)
	return err
}

func (m *migrator) provider(db *sql.DB) (*goose.Provider, error) {
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithLogger(goose.NopLogger()),
	}
	if m.table != "" {
		opts = append(opts, goose.WithTableName(m.table))
	}
	var gms []*goose.Migration
	for _, set := range m.goSets {
		gms = append(gms, set.migrations...)
	}
	if len(gms) > 0 {
		opts = append(opts, goose.WithGoMigrations(gms...))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, m.fsys, opts...)
	if err != nil {
		return nil, explain(err)
	}
	return p, nil
}

// explain adds what to do next to goose's errors from NewProvider.
func explain(err error) error {
	switch {
	case errors.Is(err, goose.ErrNoMigrations):
		return fmt.Errorf("goosemigrator: %w: goose reads NUMBER_name.sql files (00001_create_users.sql, each with a -- +goose Up annotation) at the root of the fs.FS; pass the directory that holds them, or fs.Sub to reach it", err)
	case strings.Contains(err.Error(), "unregistered Go"):
		return fmt.Errorf("goosemigrator: %w\ngoose's Provider only runs Go migrations it is given: pass them with goosemigrator.GoMigrations(revision, goose.NewGoMigration(version, &goose.GoFunc{RunTx: up}, nil))", err)
	default:
		return fmt.Errorf("goosemigrator: %w", err)
	}
}

// upMode names how goose runs a Go migration's up step: it changes what
// the migration may do (CREATE INDEX CONCURRENTLY needs "db").
func upMode(m *goose.Migration) string {
	switch {
	case m.UpFnContext != nil:
		return "tx"
	case m.UpFnNoTxContext != nil:
		return "db"
	default:
		return "none"
	}
}

func sortedByVersion(ms []*goose.Migration) []*goose.Migration {
	out := append([]*goose.Migration(nil), ms...)
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// offline is a database/sql connector that refuses to connect, so that
// validation provably never reaches a server.
type offline struct{}

func (offline) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("goosemigrator: validation does not connect")
}

func (offline) Driver() driver.Driver { return offlineDriver{} }

type offlineDriver struct{}

func (offlineDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("goosemigrator: validation does not connect")
}
