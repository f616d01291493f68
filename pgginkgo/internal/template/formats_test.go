package template_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// buildAndClone builds a template from sources and returns a connection
// to a fresh clone of it.
func buildAndClone(t *testing.T, name string, src template.Migrator) string {
	t.Helper()
	ctx := context.Background()
	built, err := builder().Build(ctx, template.Template{Name: name, Sources: []template.Migrator{src}})
	if err != nil {
		t.Fatalf("building %s: %v", name, err)
	}
	t.Cleanup(func() { _ = newAdmin(t).DropTemplate(ctx, built.Database) })
	clone := fmt.Sprintf("ttest_%s_%d", name, os.Getpid())
	a := newAdmin(t)
	if err := a.Clone(ctx, built.Database, clone); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = newAdmin(t).Drop(context.Background(), clone) })
	return clone
}

// A goose directory works as it is: only the Up sections run (the Down
// section of 00002 drops accounts, which 00010 alters), a StatementBegin
// block keeps a PL/pgSQL body whole, and the NO TRANSACTION file builds
// its index concurrently.
func TestGooseDirectoryBuilds(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, buildAndClone(t, "goose", template.SQLFiles(os.DirFS("testdata/goose"))))
	if _, err := conn.Exec(ctx, `INSERT INTO accounts (email, note) VALUES ('a@example.com', 'vip')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO ledger (account_id, cents) SELECT id, c FROM accounts, (VALUES (250), (-50)) v(c)`); err != nil {
		t.Fatal(err)
	}
	var balance int64
	if err := conn.QueryRow(ctx, `SELECT balance(id) FROM accounts`).Scan(&balance); err != nil || balance != 200 {
		t.Errorf("balance() = %d, %v; want 200", balance, err)
	}
	var valid bool
	err := conn.QueryRow(ctx, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'ledger_account_idx'::regclass`).Scan(&valid)
	if err != nil || !valid {
		t.Errorf("ledger_account_idx valid=%v, %v", valid, err)
	}
}

// golang-migrate versions 1, 2 and 10: 10 needs 2's table, so name order
// (1, 10, 2) would fail.
func TestUnpaddedVersionsRunInNumericOrder(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, buildAndClone(t, "unpadded", template.SQLFiles(os.DirFS("testdata/unpadded"))))
	var fks int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_constraint WHERE conrelid = 'invoices'::regclass AND contype = 'f'`).Scan(&fks); err != nil || fks != 1 {
		t.Errorf("invoices has %d foreign keys (%v), want 1", fks, err)
	}
}

// A failing statement of a goose file is reported at its line in the file,
// not in the Up section.
func TestGooseFailurePointsIntoTheFile(t *testing.T) {
	files := fstest.MapFS{"00001_a.sql": {Data: []byte("-- +goose Up\n-- a comment\n\nCREATE TABLE a (id int);\nCREATE TABLE b (id int REFERENCES nosuch);\n-- +goose Down\nDROP TABLE a;\n")}}
	_, err := builder().Build(context.Background(), template.Template{Name: "goosefail", Sources: []template.Migrator{template.SQLFiles(files).Named("migrations")}})
	var me *template.MigrationError
	if !errors.As(err, &me) {
		t.Fatalf("error %v is not a *MigrationError", err)
	}
	if me.File != "migrations/00001_a.sql" || me.Line != 5 || !strings.Contains(err.Error(), `relation "nosuch" does not exist`) {
		t.Errorf("error %q at %s:%d", err, me.File, me.Line)
	}
}

// The Down part and the comments a tool drops do not change the
// fingerprint; the Up part does.
func TestFingerprintCoversWhatRuns(t *testing.T) {
	fp := func(src string) string {
		s, err := template.SQLFiles(fstest.MapFS{"001_a.sql": {Data: []byte(src)}}).Fingerprint(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := fp("-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n")
	if fp("-- +goose Up\n-- why\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a CASCADE;\n") != base {
		t.Error("a dropped comment or the Down part changed the fingerprint")
	}
	if fp("-- +goose Up\nCREATE TABLE a (id bigint);\n-- +goose Down\nDROP TABLE a;\n") == base {
		t.Error("an edited Up part kept the fingerprint")
	}
}

// Flyway cannot run here (a Java program from Maven), so its rules are
// checked against the schema they must produce: V1, V1.1, V2, V10 in
// numeric order, the undo file skipped, the repeatable view last, and the
// CREATE INDEX CONCURRENTLY file outside a transaction.
func TestFlywayDirectoryBuilds(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, buildAndClone(t, "flyway", template.SQLFiles(os.DirFS("testdata/flyway"))))
	if _, err := conn.Exec(ctx, `INSERT INTO products VALUES (1, 'tea', 350); INSERT INTO stock VALUES (1, 4), (1, 3)`); err != nil {
		t.Fatal(err)
	}
	var name string
	var price, qty int
	if err := conn.QueryRow(ctx, `SELECT name, price_cents, qty FROM catalogue`).Scan(&name, &price, &qty); err != nil || name != "tea" || price != 350 || qty != 7 {
		t.Errorf("catalogue: %s %d %d, %v", name, price, qty, err)
	}
	var valid bool
	if err := conn.QueryRow(ctx, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'stock_product_idx'::regclass`).Scan(&valid); err != nil || !valid {
		t.Errorf("stock_product_idx valid=%v, %v", valid, err)
	}
}
