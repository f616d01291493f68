package template

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
)

// Template is a named schema: its sources are applied in order, so a
// "schema+seed" template can list the schema migrations and then seed SQL.
// A template without sources is an empty database.
type Template struct {
	Name    string // see ValidateTemplateName
	Sources []Migrator
}

// Built is a template database ready to be cloned with Admin.Clone.
type Built struct {
	Name     string          // the template's name, as given
	Database string          // the template database
	Hash     string          // hex SHA-256 of name, migrations and server version
	Reused   bool            // an identical template already existed
	Tracking recycle.Summary // what change tracking snapshotted; zero when reused
}

// ConnectFunc opens a superuser connection to the named database.
type ConnectFunc func(ctx context.Context, database string) (*pgx.Conn, error)

// Builder builds templates on one server. Zero fields take the defaults
// documented on them; Connect is required.
type Builder struct {
	Connect       ConnectFunc
	MaintenanceDB string                        // holds the build lock; default "postgres"
	Prefix        string                        // starts every template name; default "pgginkgo"
	Logf          func(format string, a ...any) // progress; default silent
	// BinDir holds the server's binaries: a migration's CREATE EXTENSION
	// that they cannot serve is told what to install, which depends on
	// where they came from (binaries.ExplainMissingExtension).
	BinDir string
	// NoTracking builds templates without change tracking, for a role that
	// cannot create event triggers: their clones cannot be recycled, only
	// replaced. Such templates hash differently, so a superuser's run never
	// takes one for a template it can recycle.
	NoTracking bool
	// Stamp records in the template's comment when it was last used (at
	// build, and by Touch), for servers where templates outlive runs and
	// the unused ones are collected (see SweepTemplates).
	Stamp bool
}

// lockSpace is the first key of the two-key advisory lock, so our locks
// cannot collide with an application's single bigint keys.
const lockSpace = 0x70676b74 // "pgkt"

// HashVersion changes when the way templates are named or built changes.
const HashVersion = "pgginkgo template v1"

// Build returns the template database for t, building it only when no
// complete one exists. The name hashes t's name, its migrations'
// fingerprints, the change-tracking version and the server version, so
// editing a migration builds a new template and an unchanged one is reused.
//
// Building creates the database from template0, applies the sources,
// installs change tracking (recycle.Install), freezes and analyzes it, then
// marks it IS_TEMPLATE with ALLOW_CONNECTIONS false: no session can then
// block a clone. An advisory lock serialises concurrent builders of the same
// template. On any error the half-built database is dropped.
func (b Builder) Build(ctx context.Context, t Template) (Built, error) {
	if err := b.validate(t); err != nil {
		return Built{}, err
	}
	fps := make([]string, len(t.Sources))
	for i, s := range t.Sources {
		fp, err := s.Fingerprint(ctx)
		if err != nil {
			return Built{}, fmt.Errorf("template %q, source %d: %w", t.Name, i+1, err)
		}
		fps[i] = fp
	}
	maint := b.MaintenanceDB
	if maint == "" {
		maint = "postgres"
	}
	conn, err := b.Connect(ctx, maint)
	if err != nil {
		return Built{}, fmt.Errorf("template %q: connecting to maintenance database %q: %w", t.Name, maint, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	admin, err := NewAdmin(ctx, conn)
	if err != nil {
		return Built{}, fmt.Errorf("template %q: %w", t.Name, err)
	}
	sum := sha256.Sum256([]byte(b.hashInput(t.Name, fps, admin.version)))
	built := Built{Name: t.Name, Hash: hex.EncodeToString(sum[:])}
	built.Database = templateDatabaseName(b.prefix(), t.Name, built.Hash)

	key := lockKey(sum[:])
	if _, err := conn.Exec(ctx, `SELECT pg_catalog.pg_advisory_lock($1, $2)`, int32(lockSpace), key); err != nil {
		return Built{}, fmt.Errorf("template %q: waiting for the build lock: %w", t.Name, err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_catalog.pg_advisory_unlock($1, $2)`, int32(lockSpace), key)
	}()

	marker := completeMarker(built.Hash)
	complete, exists, err := templateState(ctx, conn, built.Database, marker)
	switch {
	case err != nil:
		return Built{}, fmt.Errorf("template %q: %w", t.Name, err)
	case complete:
		built.Reused = true
		b.logf("pgginkgo: reusing template %q (%s)", t.Name, built.Database)
		if b.Stamp { // under the build lock, which a sweep takes too
			if err := b.touch(ctx, conn, built, touchEvery); err != nil {
				b.logf("pgginkgo: %v", err)
			}
		}
		return built, nil
	case exists:
		b.logf("pgginkgo: dropping incomplete template %s left by an interrupted build", built.Database)
		if err := admin.DropTemplate(ctx, built.Database); err != nil {
			return Built{}, fmt.Errorf("template %q: %w", t.Name, err)
		}
	}
	start := time.Now()
	if built.Tracking, err = b.create(ctx, admin, conn, t, built.Database, marker); err != nil {
		return Built{}, err
	}
	b.logf("pgginkgo: built template %q (%s) in %v", t.Name, built.Database, time.Since(start).Round(time.Millisecond))
	return built, nil
}

func (b Builder) validate(t Template) error {
	if b.Connect == nil {
		return errors.New("template.Builder needs a Connect function")
	}
	if err := validateIdent("prefix", b.prefix(), 20); err != nil {
		return err
	}
	if err := ValidateTemplateName(t.Name); err != nil {
		return err
	}
	for i, s := range t.Sources {
		if s == nil {
			return fmt.Errorf("template %q: source %d is nil", t.Name, i+1)
		}
	}
	return nil
}

func (b Builder) prefix() string {
	if b.Prefix == "" {
		return "pgginkgo"
	}
	return b.Prefix
}

func (b Builder) logf(format string, a ...any) {
	if b.Logf != nil {
		b.Logf(format, a...)
	}
}

func (b Builder) hashInput(name string, fingerprints []string, serverVersion int) string {
	var h strings.Builder
	fmt.Fprintf(&h, "%s\nrecycle %s\nserver %d\nname %s\n", HashVersion, recycle.Version, serverVersion, name)
	if b.NoTracking {
		h.WriteString("tracking off\n")
	}
	for i, fp := range fingerprints {
		fmt.Fprintf(&h, "source %d %s\n", i, fp)
	}
	return h.String()
}

// lockKey is the second key of a template's build lock: the first four
// bytes of its hash, which its database name carries too (see
// templateDatabaseName), so SweepTemplates can take the same lock.
func lockKey(hash []byte) int32 { return int32(binary.BigEndian.Uint32(hash[:4])) }

// completeMarker starts the comment written as the last build step; Stamp
// appends "; used <time>" to it.
func completeMarker(hash string) string { return "pgginkgo template " + hash + " complete" }

// templateState: a template is complete only when the comment written as
// the last build step carries this exact hash.
func templateState(ctx context.Context, conn *pgx.Conn, database, marker string) (complete, exists bool, err error) {
	var isTemplate, allowConn bool
	var comment string
	err = conn.QueryRow(ctx, `SELECT d.datistemplate, d.datallowconn,
		COALESCE(pg_catalog.shobj_description(d.oid, 'pg_database'), '')
		FROM pg_catalog.pg_database d WHERE d.datname = $1`, database).Scan(&isTemplate, &allowConn, &comment)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("looking for template database %s: %w", database, err)
	}
	done := comment == marker || strings.HasPrefix(comment, marker+usedSep)
	return isTemplate && !allowConn && done, true, nil
}

// Lookup finds complete templates for ts on one connection, without
// taking build locks or building anything: what a cluster booted from a
// migrated image needs. known, when not nil, holds the fingerprints of
// every template's sources, already read by the caller. ok is false when
// any template is missing or incomplete; the caller then builds them with
// Build.
func (b Builder) Lookup(ctx context.Context, conn *pgx.Conn, ts []Template, known [][]string) (built []Built, ok bool, err error) {
	admin, err := NewAdmin(ctx, conn)
	if err != nil {
		return nil, false, err
	}
	for ti, t := range ts {
		if err := b.validate(t); err != nil {
			return nil, false, err
		}
		var fps []string
		if ti < len(known) && len(known[ti]) == len(t.Sources) {
			fps = known[ti]
		} else {
			fps = make([]string, len(t.Sources))
			for i, s := range t.Sources {
				if fps[i], err = s.Fingerprint(ctx); err != nil {
					return nil, false, fmt.Errorf("template %q, source %d: %w", t.Name, i+1, err)
				}
			}
		}
		sum := sha256.Sum256([]byte(b.hashInput(t.Name, fps, admin.version)))
		one := Built{Name: t.Name, Hash: hex.EncodeToString(sum[:]), Reused: true}
		one.Database = templateDatabaseName(b.prefix(), t.Name, one.Hash)
		complete, _, err := templateState(ctx, conn, one.Database, completeMarker(one.Hash))
		if err != nil || !complete {
			return nil, false, err
		}
		built = append(built, one)
	}
	return built, true, nil
}
