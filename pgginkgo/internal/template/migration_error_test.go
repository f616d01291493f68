package template_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

func buildFiles(t *testing.T, files fstest.MapFS) error {
	t.Helper()
	_, err := builder().Build(context.Background(), template.Template{
		Name:    "broken",
		Sources: []template.Migrator{template.SQLFiles(files).Named("migrations")},
	})
	return err
}

func TestMigrationErrorShowsFileLineColumnAndExcerpt(t *testing.T) {
	err := buildFiles(t, fstest.MapFS{
		"001_users.sql":  {Data: []byte("CREATE TABLE users (id int PRIMARY KEY);\n")},
		"002_orders.sql": {Data: []byte("-- Orders belong to users.\nCREATE TABLE orders (\n\tid      serial PRIMARY KEY,\n\ttotal   numbr NOT NULL\n);\n")},
	})
	t.Logf("\n%v", err)
	var me *template.MigrationError
	if !errors.As(err, &me) || !errors.Is(err, template.ErrMigrationFailed) {
		t.Fatalf("want a *MigrationError, got %T: %v", err, err)
	}
	want := "migrations/002_orders.sql:4:10: ERROR: type \"numbr\" does not exist (SQLSTATE 42704)\n" +
		"  2 | CREATE TABLE orders (\n" +
		"  3 | \tid      serial PRIMARY KEY,\n" +
		"  4 | \ttotal   numbr NOT NULL\n" +
		"    | \t        ^"
	if me.Error() != want {
		t.Errorf("got:\n%s\nwant:\n%s", me.Error(), want)
	}
	if me.File != "migrations/002_orders.sql" || me.Line != 4 || me.Column != 10 {
		t.Errorf("location = %s:%d:%d", me.File, me.Line, me.Column)
	}
}

func TestMigrationErrorWithoutServerPositionPointsAtTheStatement(t *testing.T) {
	// A constraint violation carries no position: the failing statement is
	// found by counting the statements that completed.
	err := buildFiles(t, fstest.MapFS{
		"001_seed.sql": {Data: []byte("CREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1);\n\nINSERT INTO t\n\tVALUES (1);\n")},
	})
	var me *template.MigrationError
	if !errors.As(err, &me) {
		t.Fatalf("want a *MigrationError, got %v", err)
	}
	want := "migrations/001_seed.sql:4:1: ERROR: duplicate key value violates unique constraint \"t_pkey\" (SQLSTATE 23505)\n" +
		"DETAIL: Key (id)=(1) already exists.\n" +
		"  4 | INSERT INTO t\n" +
		"    | ^"
	if me.Error() != want {
		t.Errorf("got:\n%s\nwant:\n%s", me.Error(), want)
	}
}

func TestMigrationErrorCountsCharactersNotBytes(t *testing.T) {
	err := buildFiles(t, fstest.MapFS{
		"001.sql": {Data: []byte("SELECT 'größe', 'ü' || nme;\n")},
	})
	var me *template.MigrationError
	if !errors.As(err, &me) || me.Line != 1 || me.Column != 24 {
		t.Fatalf("want 1:24, got %v", err)
	}
}

func TestMigrationErrorInNoTransactionFile(t *testing.T) {
	err := buildFiles(t, fstest.MapFS{
		"001.sql": {Data: []byte("CREATE TABLE t (id int);\n")},
		"002.sql": {Data: []byte("-- pgginkgo:no-transaction\nCREATE INDEX CONCURRENTLY a ON t (id);\nCREATE INDEX CONCURRENTLY b ON t (id) WHER id > 0;\n")},
	})
	var me *template.MigrationError
	if !errors.As(err, &me) || me.File != "migrations/002.sql" || me.Line != 3 || me.Column != 39 {
		t.Fatalf("want migrations/002.sql:3:39, got %v", err)
	}
}

func TestMigrationErrorInsidePLpgSQLShowsContext(t *testing.T) {
	err := buildFiles(t, fstest.MapFS{
		"001.sql": {Data: []byte("DO $$\nBEGIN\n\tRAISE EXCEPTION 'seed data is stale';\nEND $$;\n")},
	})
	var me *template.MigrationError
	if !errors.As(err, &me) {
		t.Fatalf("want a *MigrationError, got %v", err)
	}
	want := "migrations/001.sql:1:1: ERROR: seed data is stale (SQLSTATE P0001)\n" +
		"CONTEXT: PL/pgSQL function inline_code_block line 3 at RAISE\n" +
		"  1 | DO $$\n" +
		"    | ^"
	if me.Error() != want {
		t.Errorf("got:\n%s\nwant:\n%s", me.Error(), want)
	}
}

func TestGoMigrationErrorNamesItsVersion(t *testing.T) {
	_, err := builder().Build(context.Background(), template.Template{
		Name: "gofail",
		Sources: []template.Migrator{template.Func("seed-v7", func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, "SELECT * FROM missing_table")
			return err
		})},
	})
	want := `template "gofail", source 1: Go migration "seed-v7": ERROR: relation "missing_table" does not exist (SQLSTATE 42P01)`
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, template.ErrMigrationFailed) {
		t.Fatalf("got %v\nwant prefix %s", err, want)
	}
}
