package pgginkgo

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// Migrator is one step of a template's schema. SQLDir and MigrateFunc are
// the built-in ones; a migration tool plugs in by implementing its two
// methods:
//
//	Fingerprint(ctx context.Context) (string, error)
//	Migrate(ctx context.Context, conn *pgx.Conn) error
//
// Fingerprint identifies what Migrate applies: equal fingerprints promise
// an equal schema. It is part of the template database's name, so two
// different schemas never share one. Migrate applies the schema over conn,
// a superuser connection to the template database being built. It runs on
// process 1 of a run that finds no migrated image for these fingerprints:
// once per machine.
type Migrator = template.Migrator

// SQLDir applies the .sql files at the root of fsys, written for any of
// the common migration tools, with no configuration. It tells the tool from
// the files and applies only their Up parts, in the tool's order and with
// its transaction rules:
//
//   - goose: the part between "-- +goose Up" and "-- +goose Down", by
//     version; StatementBegin/StatementEnd blocks kept whole; NO
//     TRANSACTION and ENVSUB ON/OFF honoured; commands in any case.
//   - golang-migrate: the N_name.up.sql files by numeric version, each sent
//     as one query as golang-migrate does; .down.sql skipped.
//   - Atlas (a directory with atlas.sum): every file in version order, in
//     a transaction unless its header says "-- atlas:txmode none".
//   - dbmate: from "-- migrate:up" to "-- migrate:down", in file-name order
//     as dbmate sorts; "transaction:false" honoured.
//   - sql-migrate: between "-- +migrate Up" and "-- +migrate Down",
//     numeric prefixes first and numerically; StatementBegin/StatementEnd
//     and "notransaction" honoured.
//   - Flyway: V<version>__<name>.sql by dotted numeric version, then the
//     R__ repeatables by name; U files skipped; a file runs outside a
//     transaction when its .conf says executeInTransaction=false or it
//     holds CREATE INDEX CONCURRENTLY and the like, as Flyway decides.
//   - tern: the part above "---- create above / drop below ----", by
//     number; "---- tern: disable-tx ----" honoured.
//   - anything else: each file whole, in lexical order, in its own
//     transaction unless its first comments say
//     "-- pgginkgo:no-transaction"; .down.sql files skipped.
//
// What the tool would refuse or misread fails the suite before the cluster
// starts, with the file and line to fix: two tools' files in one
// directory, two files with one version, a misspelt marker ("-- +goos Up"),
// an empty Up part above a Down part that holds SQL, an unterminated
// StatementBegin. Go-code migrations (goose's .go files) and tern's
// {{ templates }} cannot be read as files; the error then names the
// adapter module that runs the tool itself (migrators/goose,
// migrators/tern), which also leaves the tool's version table in the
// template.
func SQLDir(fsys fs.FS) Migrator { return template.SQLFiles(fsys) }

// MigrateFunc turns a Go function into a Migrator. version stands for the
// function's content in the template database's name and in the key of the
// migrated image: pgginkgo cannot see inside a function, so change version
// whenever the function changes what it does, or later runs keep booting
// the image the old function built.
func MigrateFunc(version string, fn func(ctx context.Context, conn *pgx.Conn) error) Migrator {
	return template.Func(version, fn)
}

// Migrations is the common case: one template, named "default", built from
// a directory of .sql files.
//
//	var _ = pgginkgo.Suite(pgginkgo.Migrations(os.DirFS("../migrations")))
func Migrations(fsys fs.FS) SuiteOption { return DefineTemplate(DefaultTemplate, SQLDir(fsys)) }

// DefaultTemplate is the name Migrations gives its template, and the name
// of the empty template a suite that defines none gets. FreshDatabase
// without a template name uses the first template the suite defines.
const DefaultTemplate = "default"

// DefineTemplate defines a named template built on process 1 from sources
// applied in order, and kept in the migrated image so that later runs
// need not build it again:
//
//	pgginkgo.DefineTemplate("schema", pgginkgo.SQLDir(os.DirFS("migrations"))),
//	pgginkgo.DefineTemplate("seeded", pgginkgo.SQLDir(os.DirFS("migrations")), pgginkgo.SQLDir(os.DirFS("seed"))),
//
// The first template defined is the default for FreshDatabase; a spec
// picks another with FromTemplate, and Database.TemplateName says which
// one a database was cloned from.
func DefineTemplate(name string, sources ...Migrator) SuiteOption {
	return suiteOnly(func(c *config) {
		if err := template.ValidateTemplateName(name); err != nil {
			c.errs = append(c.errs, fmt.Errorf("DefineTemplate(%q): %w", name, err))
			return
		}
		for _, t := range c.templates {
			if t.Name == name {
				c.errs = append(c.errs, fmt.Errorf("DefineTemplate(%q) is defined twice; give each template its own name", name))
				return
			}
		}
		srcs := make([]template.Migrator, len(sources))
		for i, s := range sources {
			if s == nil {
				c.errs = append(c.errs, fmt.Errorf("DefineTemplate(%q): source %d is nil", name, i+1))
				return
			}
			srcs[i] = s
		}
		c.templates = append(c.templates, template.Template{Name: name, Sources: srcs})
	})
}

// Prefetch sets how many databases per template each process owns: ready
// and connected, in use, or being recycled. Default: two per core, at least
// 2, at most 8.
func Prefetch(n int) SuiteOption {
	return suiteOnly(func(c *config) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("Prefetch(%d): keep at least one database ready", n))
			return
		}
		c.prefetch, c.prefetchSet = n, true
	})
}

// buildTemplates runs on process 1 and records the template databases in
// the Handle for every process.
//
// With reuse (the cluster came from an image) it first looks the templates
// up, and builds only when one is missing.
func buildTemplates(ctx context.Context, cfg *config, h *Handle, reuse bool, log *slog.Logger) ([]template.Built, error) {
	tmpls := suiteTemplates(cfg)
	b := template.Builder{
		Connect: func(ctx context.Context, db string) (*pgx.Conn, error) {
			cc, err := h.ConnConfig(db)
			if err != nil {
				return nil, err
			}
			return pgx.ConnectConfig(ctx, cc)
		},
		Logf:   func(format string, a ...any) { log.Debug(fmt.Sprintf(format, a...)) },
		BinDir: h.BinDir,
		// On an existing server the build lock lives in the URL's
		// database, templates are stamped when used (for the sweep), and
		// a role that cannot recycle gets templates without tracking.
		MaintenanceDB: h.Database,
		Stamp:         h.External,
		NoTracking:    h.CloneOnly,
	}
	h.Templates = map[string]string{}
	h.DefaultTemplate = tmpls[0].Name
	if reuse {
		// Booted from an image: the templates should all be there, and one
		// query proves it without a build lock per template.
		began := time.Now()
		conn, err := b.Connect(ctx, "postgres")
		if err != nil {
			return nil, fmt.Errorf("pgginkgo: %w", err)
		}
		all, ok, err := b.Lookup(ctx, conn, tmpls, cfg.fingerprints)
		conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, fmt.Errorf("pgginkgo: looking up the image's templates: %w", err)
		}
		if ok {
			for _, built := range all {
				h.Templates[built.Name] = built.Database
			}
			log.Info("templates ready", "templates", len(all), "migrated", false, "took", time.Since(began).String())
			return all, nil
		}
	}
	var all []template.Built
	for _, t := range tmpls {
		began := time.Now()
		built, err := b.Build(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("pgginkgo: building template %q: %w", t.Name, err)
		}
		h.Templates[t.Name] = built.Database
		if built.Reused {
			log.Info("template ready", "template", t.Name, "database", built.Database, "migrated", false, "took", time.Since(began).String())
		} else {
			log.Info("template ready", "template", t.Name, "database", built.Database, "migrated", true,
				"tables", built.Tracking.Tables, "seedRows", built.Tracking.SeedRows, "took", time.Since(began).String())
		}
		all = append(all, built)
	}
	return all, nil
}

// checkTemplates validates options and reads every migration source's
// fingerprint, without touching a server.
func checkTemplates(ctx context.Context, cfg *config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	cfg.fingerprints = make([][]string, len(cfg.templates))
	for ti, t := range cfg.templates {
		for i, src := range t.Sources {
			fp, err := src.Fingerprint(ctx)
			if err != nil {
				return fmt.Errorf("pgginkgo: template %q, source %d: %w", t.Name, i+1, err)
			}
			cfg.fingerprints[ti] = append(cfg.fingerprints[ti], fp)
		}
	}
	return nil
}
