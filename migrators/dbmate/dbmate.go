package dbmatemigrator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"

	"github.com/amacneil/dbmate/v2/pkg/dbmate"
	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/migrators/internal/adapter"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// DefaultMigrationsTable is the table dbmate records applied migrations
// in when no MigrationsTable option is given, as dbmate itself defaults.
const DefaultMigrationsTable = "schema_migrations"

// dbmateModule is the module whose version goes into the fingerprint.
const dbmateModule = "github.com/amacneil/dbmate/v2"

// Option configures New.
type Option func(*migrator)

// MigrationsTable sets the table dbmate records applied migrations in, as
// the application sets it (--migrations-table, DBMATE_MIGRATIONS_TABLE or
// dbmate.DB.MigrationsTableName): "schema_migrations", or qualified with
// a schema, "meta.schema_migrations", which dbmate creates when missing.
func MigrationsTable(name string) Option {
	return func(m *migrator) { m.table = name }
}

type migrator struct {
	fsys  fs.FS
	table string
}

// New returns a pgginkgo.Migrator that builds a template with dbmate from
// the migrations in fsys: files at its root whose names start with their
// version, like 20240101120000_create_users.sql, each with a
// "-- migrate:up" and a "-- migrate:down" block. dbmate applies them in
// the order of their file names, each Up block in a transaction unless
// its line says "-- migrate:up transaction:false".
//
// Migrate runs dbmate's own Migrate over pgx database/sql handles on the
// template database, so the template keeps dbmate's migrations table with
// every version, and an application that runs dbmate at start against a
// database cloned from the template finds nothing to apply.
//
// Its fingerprint covers dbmate's version, every file under fsys and the
// migrations table.
func New(fsys fs.FS, opts ...Option) pgginkgo.Migrator {
	return adapter.Apply(&migrator{fsys: fsys, table: DefaultMigrationsTable}, opts)
}

// db is a dbmate.DB on the files, reaching its database through u.
func (m *migrator) db(u *url.URL, log io.Writer) *dbmate.DB {
	db := dbmate.New(u)
	db.FS = m.fsys
	db.MigrationsDir = []string{"."}
	db.MigrationsTableName = m.table
	db.AutoDumpSchema = false
	db.Log = log
	return db
}

func (m *migrator) check() error {
	if m.fsys == nil {
		return errors.New("dbmate: the migrations fs.FS is nil; pass os.DirFS(\"path/to/migrations\") or an embed.FS to dbmatemigrator.New")
	}
	if strings.TrimSpace(m.table) == "" {
		return errors.New("dbmate: the migrations table name is empty; pass dbmatemigrator.MigrationsTable(\"schema_migrations\") or leave the option out")
	}
	return nil
}

// Fingerprint lists and parses the migrations with dbmate, without a
// database, so that a file dbmate cannot parse stops the suite before the
// cluster starts.
func (m *migrator) Fingerprint(context.Context) (string, error) {
	if err := m.check(); err != nil {
		return "", err
	}
	u, release := register(nil)
	defer release()
	migrations, err := m.db(u, io.Discard).FindMigrations()
	if err != nil {
		return "", fmt.Errorf("dbmate: listing the migrations: %w; check the directory passed to dbmatemigrator.New (tests run in their package's directory)", err)
	}
	if len(migrations) == 0 {
		return "", fmt.Errorf("dbmate: no migrations in the fs.FS: dbmate reads files at its root whose names start with their version, like 20240101120000_create_users.sql: %w", dbmate.ErrNoMigrationFiles)
	}
	byVersion := map[string]string{}
	for _, mig := range migrations {
		if other, ok := byVersion[mig.Version]; ok {
			return "", fmt.Errorf("dbmate: %s and %s have the same version %s, and dbmate records each version once; give each migration its own version", other, mig.FileName, mig.Version)
		}
		byVersion[mig.Version] = mig.FileName
		if _, err := mig.Parse(); err != nil {
			return "", fmt.Errorf("dbmate: migration %s: %w", mig.FileName, err)
		}
	}
	files, err := adapter.FilesDigest(m.fsys)
	if err != nil {
		return "", fmt.Errorf("dbmate: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "files %s\x00table %s\x00", files, m.table)
	return "dbmate:" + adapter.ToolVersion(dbmateModule, dbmate.New) + ":" + hex.EncodeToString(h.Sum(nil)), nil
}

// Migrate runs dbmate's Migrate on conn's database: it creates the
// migrations table, then applies every pending migration in file-name
// order. dbmate's calls take no context, so a cancelled ctx does not stop
// a migration already running.
func (m *migrator) Migrate(ctx context.Context, conn *pgx.Conn) error {
	if err := m.check(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	u, release := register(conn)
	defer release()
	var log bytes.Buffer
	if err := m.db(u, &log).Migrate(); err != nil {
		if file := lastApplying(log.String()); file != "" {
			return fmt.Errorf("dbmate: migration %s: %w; fix that migration and run the suite again", file, err)
		}
		return fmt.Errorf("dbmate: migrating: %w", err)
	}
	return nil
}

// lastApplying is the file of dbmate's last "Applying: " log line: the
// migration that was running when Migrate failed.
func lastApplying(log string) string {
	file := ""
	for _, line := range strings.Split(log, "\n") {
		if f, ok := strings.CutPrefix(line, "Applying: "); ok {
			file = f
		}
	}
	return file
}
