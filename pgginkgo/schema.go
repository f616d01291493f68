package pgginkgo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
)

// TemplateSchema returns the schema of the named template as
// pg_dump --schema-only prints it, without owners, privileges and
// pgginkgo's own change tracking, and without the tables, views and
// sequences that match the excluded pg_dump patterns (a migration tool's
// version table, say). Two templates built from the same migrations by
// different means compare equal, which is how a test proves that
// pgginkgo applies a tool's files as the tool itself does:
//
//	tool, err := pgginkgo.Cluster().TemplateSchema(ctx, "goose", "goose_db_version")
//	files, err := pgginkgo.Cluster().TemplateSchema(ctx, "files")
//	Expect(files).To(Equal(tool))
//
// It clones the template into a scratch database for pg_dump, which cannot
// connect to a template, and drops the clone afterwards.
func (h *Handle) TemplateSchema(ctx context.Context, template string, exclude ...string) (string, error) {
	tmplDB, ok := h.Templates[template]
	if !ok {
		return "", fmt.Errorf("pgginkgo: TemplateSchema: %w %q: the suite defines %s", ErrUnknownTemplate, template, h.knownTemplates())
	}
	if h.BinDir == "" {
		return "", errors.New("pgginkgo: TemplateSchema: the Handle names no BinDir, so pg_dump cannot be found")
	}
	cc, err := h.ConnConfig(h.Database)
	if err != nil {
		return "", err
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return "", fmt.Errorf("pgginkgo: TemplateSchema: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	scratch := "pgginkgo_schema_" + hex.EncodeToString(suffix[:])
	id := sqlquote.Ident(scratch)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+id+" TEMPLATE "+sqlquote.Ident(tmplDB)); err != nil {
		return "", fmt.Errorf("pgginkgo: TemplateSchema: cloning template %q: %w", template, err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+id+" WITH (FORCE)") }()
	out, err := schemaDump(ctx, h, scratch, exclude)
	if err != nil {
		return "", fmt.Errorf("pgginkgo: TemplateSchema of %q: %w", template, err)
	}
	return out, nil
}

// Schema returns the database's schema as TemplateSchema does: what
// pg_dump --schema-only prints, without owners, privileges, pgginkgo's
// change tracking and the tables matching the exclude patterns. Compare it
// before and after code that must leave the schema alone, such as a
// migration tool's Up on an already migrated database:
//
//	before, _ := db.Schema(ctx, "goose_db_version")
//	// … run the tool …
//	Expect(db.Schema(ctx, "goose_db_version")).To(Equal(before))
func (d *Database) Schema(ctx context.Context, exclude ...string) (string, error) {
	h := Cluster()
	if h == nil || h.BinDir == "" {
		return "", errors.New("pgginkgo: Database.Schema needs the suite's cluster, whose Handle names the BinDir of pg_dump")
	}
	out, err := schemaDump(ctx, h, d.name, exclude)
	if err != nil {
		return "", fmt.Errorf("pgginkgo: schema of %s: %w", d.name, err)
	}
	return out, nil
}

// schemaDump is the schema-only dump of dbname without tracking, owners,
// privileges and the excluded tables.
func schemaDump(ctx context.Context, h *Handle, dbname string, exclude []string) (string, error) {
	work, err := os.MkdirTemp("", "pgginkgo-schema-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	dumpArgs := []string{"--schema-only"}
	for _, pattern := range exclude {
		dumpArgs = append(dumpArgs, "--exclude-table="+pattern)
	}
	out, err := dumpWithoutTracking(ctx, h, h.URL(dbname), work, dumpArgs, []string{"--no-owner", "--no-privileges", "--file=-"})
	if err != nil {
		return "", err
	}
	return stableDump(string(out)), nil
}

// stableDump drops the lines of a dump that differ between two dumps of
// the same schema: the \restrict and \unrestrict guards newer pg_dump
// releases write with a random key.
func stableDump(dump string) string {
	lines := strings.Split(dump, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if strings.HasPrefix(l, `\restrict `) || strings.HasPrefix(l, `\unrestrict `) {
			continue
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, "\n")
}
