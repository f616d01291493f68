package ternmigrator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/pgginkgo/pgginkgo/migrators/internal/adapter"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// DefaultVersionTable is the table tern records the schema's version in
// when no VersionTable option is given: the one tern's own command line
// uses.
const DefaultVersionTable = "public.schema_version"

// ternModule is the module whose version goes into the fingerprint.
const ternModule = "github.com/jackc/tern/v2"

// Option configures New.
type Option func(*migrator)

// VersionTable sets the table tern keeps the schema's version in, as the
// application's tern configuration names it ("version_table" in
// tern.conf, the versionTable argument of migrate.NewMigrator). Qualify it
// with its schema, as tern recommends: "public.schema_version". The
// schema must exist before the first migration, since tern creates the
// table before it runs any.
func VersionTable(name string) Option {
	return func(m *migrator) { m.versionTable = name }
}

// Data sets the values tern's text/template migrations read, {{ .name }}
// for data["name"]: what the application puts in migrate.Migrator.Data
// (the [data] section of tern.conf). The map is copied; its values must
// encode to JSON, because that encoding goes into the fingerprint.
func Data(data map[string]any) Option {
	return func(m *migrator) { m.data = maps.Clone(data) }
}

type migrator struct {
	fsys         fs.FS
	versionTable string
	data         map[string]any
}

// New returns a pgginkgo.Migrator that builds a template with tern from
// the migrations in fsys: files named like 001_create_users.sql at its
// root, numbered from 1 without gaps, and the shared templates they
// include from its subdirectories.
//
// Migrate runs tern's own migrate.Migrator on the template's connection,
// so the template keeps tern's version table at the last version, and an
// application that runs tern's Migrate at start finds nothing to do.
//
// Its fingerprint covers tern's version, every file under fsys, the
// version table, the Data and the migrations as tern renders them: a
// template whose output depends on more than Data (sprig's env or now,
// say) builds a new template whenever that output changes.
func New(fsys fs.FS, opts ...Option) pgginkgo.Migrator {
	return adapter.Apply(&migrator{fsys: fsys, versionTable: DefaultVersionTable}, opts)
}

// Fingerprint loads and renders the migrations as tern does, without a
// database, so that a bad file name, a gap in the numbering or a template
// error stops the suite before the cluster starts.
func (m *migrator) Fingerprint(ctx context.Context) (string, error) {
	if m.fsys == nil {
		return "", errors.New("tern: the migrations fs.FS is nil; pass os.DirFS(\"path/to/migrations\") or an embed.FS to ternmigrator.New")
	}
	if strings.TrimSpace(m.versionTable) == "" {
		return "", errors.New("tern: the version table name is empty; pass ternmigrator.VersionTable(\"public.schema_version\") or leave the option out")
	}
	data := []byte("{}")
	var err error
	if len(m.data) > 0 {
		data, err = json.Marshal(m.data)
	}
	if err != nil {
		return "", fmt.Errorf("tern: the Data option's values must encode to JSON, because they are part of the template's fingerprint: %w", err)
	}
	tm, err := migrate.NewMigrator(ctx, nil, m.versionTable)
	if err != nil {
		return "", fmt.Errorf("tern: %w", err)
	}
	if err := m.load(tm); err != nil {
		return "", err
	}
	files, err := adapter.FilesDigest(m.fsys)
	if err != nil {
		return "", fmt.Errorf("tern: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "files %s\x00table %s\x00data %s\x00", files, m.versionTable, data)
	for _, mig := range tm.Migrations {
		fmt.Fprintf(h, "migration %d %s\x00%s\x00%s\x00", mig.Sequence, mig.Name, mig.UpSQL, mig.DownSQL)
	}
	return "tern:" + adapter.ToolVersion(ternModule, migrate.NewMigrator) + ":" + hex.EncodeToString(h.Sum(nil)), nil
}

// load reads the migrations into tm with the Data, and explains tern's
// errors.
func (m *migrator) load(tm *migrate.Migrator) error {
	maps.Copy(tm.Data, m.data)
	err := tm.LoadMigrations(m.fsys)
	var none migrate.NoMigrationsFoundError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &none):
		return fmt.Errorf("tern: no migrations in the fs.FS: tern reads files named like 001_create_users.sql at its root; check the directory passed to ternmigrator.New: %w", err)
	case errors.Is(err, migrate.ErrNoFwMigration):
		return fmt.Errorf("tern: a migration has no SQL above its \"---- create above / drop below ----\" line; give every migration an up part: %w", err)
	default:
		return fmt.Errorf("tern: loading the migrations: %w; fix the file tern names (migrations are numbered 1, 2, 3... without gaps or duplicates, and are text/template files)", err)
	}
}

// Migrate runs tern on conn: it creates the version table, then applies
// every migration in order, each in a transaction unless it says
// "---- tern: disable-tx ----".
func (m *migrator) Migrate(ctx context.Context, conn *pgx.Conn) error {
	if m.fsys == nil {
		return errors.New("tern: the migrations fs.FS is nil; pass os.DirFS(\"path/to/migrations\") or an embed.FS to ternmigrator.New")
	}
	tm, err := migrate.NewMigrator(ctx, conn, m.versionTable)
	if err != nil {
		return fmt.Errorf("tern: creating the version table %s: %w; check the VersionTable option (its schema must exist)", m.versionTable, err)
	}
	if err := m.load(tm); err != nil {
		return err
	}
	if err := tm.Migrate(ctx); err != nil {
		return fmt.Errorf("tern: migrating: %w; fix that migration and run the suite again", err)
	}
	return nil
}
