package template_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// seedMigrator stands for a migration tool plugged in through the
// interface: it fingerprints its own state and migrates through conn.
type seedMigrator struct{ rows int }

func (s seedMigrator) Fingerprint(context.Context) (string, error) {
	return fmt.Sprintf("seed rows=%d", s.rows), nil
}

func (s seedMigrator) Migrate(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, `INSERT INTO t SELECT generate_series(1, $1)`, s.rows)
	return err
}

func TestSourcesApplyInOrderAndClonesHaveThem(t *testing.T) {
	ctx := context.Background()
	var calls int
	b, err := builder().Build(ctx, template.Template{Name: "schema+seed", Sources: []template.Migrator{
		template.Func(fmt.Sprint("schema ", os.Getpid(), t.Name()), func(ctx context.Context, conn *pgx.Conn) error {
			calls++
			_, err := conn.Exec(ctx, uniqueSQL(t))
			return err
		}),
		seedMigrator{rows: 5},
	}})
	if err != nil {
		t.Fatal(err)
	}
	a := newAdmin(t)
	t.Cleanup(func() { _ = a.DropTemplate(ctx, b.Database) })
	if calls != 1 || b.Tracking.SeedRows != 5 || b.Tracking.Tables != 1 {
		t.Errorf("calls=%d tracking=%+v", calls, b.Tracking)
	}
	name := "ttest_clone_order"
	if err := a.Clone(ctx, b.Database, name); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Drop(ctx, name) }()
	conn := connect(t, name)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 5 {
		t.Errorf("clone has %d rows (%v), want 5", n, err)
	}
	conn.Close(ctx)
}

func TestCloneAndDropErrors(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	long := strings.Repeat("d", 64)
	err := a.Clone(ctx, "template0", long)
	if !errors.Is(err, template.ErrInvalidName) || !strings.Contains(err.Error(), "64 bytes long; PostgreSQL keeps only 63") {
		t.Errorf("too long: %v", err)
	}
	err = a.Clone(ctx, "ttest_no_such_template", "ttest_clone_x")
	want := `cloning "ttest_clone_x" from template "ttest_no_such_template": ERROR: template database "ttest_no_such_template" does not exist (SQLSTATE 3D000); the template does not exist: build it first`
	if err == nil || err.Error() != want {
		t.Errorf("missing template:\n got %v\nwant %s", err, want)
	}
	if err := a.Drop(ctx, "ttest_never_created"); err != nil {
		t.Errorf("dropping a missing database: %v", err)
	}
	if err := a.DropTemplate(ctx, "ttest_never_created"); err != nil {
		t.Errorf("dropping a missing template: %v", err)
	}
}

func TestDropEndsOpenSessions(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	name := "ttest_clone_busy"
	if err := a.Clone(ctx, "template0", name); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, name) // left open on purpose
	if err := a.Drop(ctx, name); err != nil {
		t.Fatalf("drop with a session open: %v", err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Error("the session survived DROP … WITH (FORCE)")
	}
}
