package golangmigrator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/migrators/internal/adapter"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// toolModule is golang-migrate's module path, whose version goes into the
// fingerprint (read from migrate.NewWithInstance's source path in test
// binaries, whose build info lists no dependencies).
const toolModule = "github.com/golang-migrate/migrate/v4"

// Option configures the golang-migrate Migrator that New returns.
type Option func(*migrator)

// migrator holds the migrations and what the options set.
type migrator struct {
	fsys  fs.FS
	table string
	// errs are option mistakes, reported by Fingerprint before the
	// cluster starts rather than by the option itself.
	errs []error
}

// MigrationsTable makes golang-migrate record its version in the table
// name instead of its default, schema_migrations: what the
// x-migrations-table URL parameter or pgx/v5's Config.MigrationsTable
// sets. Pass the same name your application gives golang-migrate, or its
// Up at start will not find the version the template holds. As with
// golang-migrate's default (unquoted) setting, name is one identifier in
// the current schema: a dot is part of the table's name.
func MigrationsTable(name string) Option {
	return func(c *migrator) {
		if name == "" {
			c.errs = append(c.errs, errors.New("golangmigrator.MigrationsTable: the table name is empty; pass the name your application gives x-migrations-table, or drop the option for schema_migrations"))
			return
		}
		c.table = name
	}
}

// New returns a Migrator that applies the golang-migrate migrations in
// fsys with golang-migrate itself: an iofs source on fsys and the pgx/v5
// database driver on the template, then Up. The template keeps
// golang-migrate's version table, so application code that runs Up at
// start gets migrate.ErrNoChange.
//
// fsys holds the migrations at its root, named as golang-migrate wants
// them: VERSION_title.up.sql and VERSION_title.down.sql, applied in the
// numeric order of VERSION (1, 2, 10), each up file sent to PostgreSQL as
// one query without an explicit transaction. golang-migrate takes any
// extension after .up (1_x.up.sql~ is a migration too); files whose name
// does not match, and subdirectories, are ignored as it ignores them.
func New(fsys fs.FS, opts ...Option) pgginkgo.Migrator {
	return adapter.Apply(&migrator{fsys: fsys}, opts)
}

// Fingerprint reads the migrations as golang-migrate's iofs source does
// (file names, duplicate versions), without a database, and identifies
// them: golang-migrate's version, the files' digest and the table name.
// golang-migrate does not parse SQL, so a bad statement surfaces in
// Migrate.
func (m *migrator) Fingerprint(ctx context.Context) (string, error) {
	fp, err := adapter.FilesFingerprint("golangmigrator", "golang-migrate", toolModule, migrate.NewWithInstance, m.fsys, m.errs)
	if err != nil {
		return "", err
	}
	src, err := m.source()
	if err != nil {
		return "", err
	}
	_ = src.Close()
	if m.table != "" {
		fp += fmt.Sprintf(":table=%q", m.table)
	}
	return fp, nil
}

// Migrate runs golang-migrate's Up over a database/sql handle on the
// template. Closing the migrate instance closes that handle and the
// connection the driver pins, so no session is left when it returns.
func (m *migrator) Migrate(ctx context.Context, conn *pgx.Conn) (err error) {
	src, err := m.source()
	if err != nil {
		return err
	}
	db := adapter.SQLDB(conn)
	drv, err := pgxmigrate.WithInstance(db, &pgxmigrate.Config{MigrationsTable: m.table})
	if err != nil {
		_ = src.Close()
		_ = db.Close()
		return fmt.Errorf("golangmigrator: opening golang-migrate's pgx/v5 driver on the template: %w", err)
	}
	mig, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		_ = src.Close()
		_ = drv.Close() // closes db too
		return fmt.Errorf("golangmigrator: %w", err)
	}
	defer func() {
		srcErr, dbErr := mig.Close()
		if err == nil {
			if cerr := errors.Join(srcErr, dbErr); cerr != nil {
				err = fmt.Errorf("golangmigrator: closing golang-migrate: %w", cerr)
			}
		}
	}()

	// Up takes no context: ask it to stop between migrations when ctx
	// ends, which is as soon as golang-migrate can stop.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			mig.GracefulStop <- true
		case <-done:
		}
	}()

	err = mig.Up()
	if errors.Is(err, migrate.ErrNoChange) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("golangmigrator: golang-migrate Up: %w; fix the migration and run the suite again (the template is rebuilt from scratch)", err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("golangmigrator: golang-migrate Up stopped: %w", context.Cause(ctx))
	}
	return nil
}

// source opens golang-migrate's iofs source on the root of fsys, which
// also checks the names, and says what to do when it finds nothing.
func (m *migrator) source() (source.Driver, error) {
	if m.fsys == nil {
		return nil, errors.New(`golangmigrator: the migrations fs.FS is nil; pass os.DirFS("path/to/migrations") or an embed.FS`)
	}
	src, err := iofs.New(m.fsys, ".")
	if err != nil {
		var dup source.ErrDuplicateMigration
		if errors.As(err, &dup) {
			return nil, fmt.Errorf("golangmigrator: %w: two files are version %d %s; give each migration its own version", err, dup.Version, dup.Direction)
		}
		return nil, fmt.Errorf("golangmigrator: reading the migrations: %w", err)
	}
	if _, err := src.First(); err != nil {
		_ = src.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("golangmigrator: golang-migrate found no migrations: it reads VERSION_title.up.sql files (1_create_users.up.sql) at the root of the fs.FS; pass the directory that holds them, or fs.Sub to reach it: %w", err)
		}
		return nil, fmt.Errorf("golangmigrator: %w", err)
	}
	return src, nil
}
