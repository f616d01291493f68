package template_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

func TestBuildMarksTemplateAndReusesIt(t *testing.T) {
	ctx := context.Background()
	tpl := template.Template{Name: "good", Sources: []template.Migrator{
		template.SQLFiles(fstest.MapFS{"001.sql": {Data: []byte(uniqueSQL(t))}}),
		template.SQLFiles(os.DirFS("testdata/good")),
	}}
	first, err := builder().Build(ctx, tpl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = newAdmin(t).DropTemplate(ctx, first.Database) })
	if first.Reused || !strings.HasPrefix(first.Database, "ttest_tpl_good_") || len(first.Database) > template.MaxNameBytes {
		t.Errorf("first build: %+v", first)
	}
	var isTemplate, allowConn bool
	err = connect(t, "postgres").QueryRow(ctx, `SELECT datistemplate, datallowconn FROM pg_database WHERE datname = $1`,
		first.Database).Scan(&isTemplate, &allowConn)
	if err != nil || !isTemplate || allowConn {
		t.Errorf("template flags: is_template=%v allow_connections=%v err=%v", isTemplate, allowConn, err)
	}
	second, err := builder().Build(ctx, tpl)
	if err != nil || !second.Reused || second.Database != first.Database {
		t.Errorf("second build: %+v, %v; want the first one reused", second, err)
	}

	// The clone has what both sources created, .down.sql skipped.
	a := newAdmin(t)
	name := fmt.Sprintf("ttest_clone_%d", os.Getpid())
	if err := a.Clone(ctx, first.Database, name); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Drop(ctx, name) }()
	conn := connect(t, name)
	var indexes int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'users' AND indexname LIKE 'users_%'`).Scan(&indexes); err != nil || indexes != 4 {
		t.Errorf("users has %d indexes (%v), want 4: pkey, email unique and the two concurrent ones", indexes, err)
	}
	conn.Close(ctx)
}

func TestBuildHashesMigrationContent(t *testing.T) {
	ctx := context.Background()
	build := func(sql string) template.Built {
		b, err := builder().Build(ctx, template.Template{Name: "hash", Sources: []template.Migrator{
			template.SQLFiles(fstest.MapFS{"001.sql": {Data: []byte(sql)}}),
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = newAdmin(t).DropTemplate(ctx, b.Database) })
		return b
	}
	base := uniqueSQL(t)
	a, b := build(base), build(base+"ALTER TABLE t ADD COLUMN x int;\n")
	if a.Database == b.Database {
		t.Fatalf("changing a migration kept the template name %s", a.Database)
	}
}

func TestConcurrentBuildersBuildOnce(t *testing.T) {
	ctx := context.Background()
	tpl := template.Template{Name: "race", Sources: []template.Migrator{
		template.SQLFiles(fstest.MapFS{"001.sql": {Data: []byte(uniqueSQL(t))}}),
	}}
	const n = 4
	results := make([]template.Built, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = builder().Build(ctx, tpl) })
	}
	wg.Wait()
	built := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("builder %d: %v", i, errs[i])
		}
		if results[i].Database != results[0].Database {
			t.Errorf("builders disagree on the name: %s vs %s", results[i].Database, results[0].Database)
		}
		if !results[i].Reused {
			built++
		}
	}
	t.Cleanup(func() { _ = newAdmin(t).DropTemplate(ctx, results[0].Database) })
	if built != 1 {
		t.Errorf("%d builders built the template, want exactly 1", built)
	}
}

func TestFailedBuildLeavesNothing(t *testing.T) {
	err := buildFiles(t, fstest.MapFS{
		"001.sql": {Data: []byte(uniqueSQL(t))},
		"002.sql": {Data: []byte("SELECT 1/0;")},
	})
	if err == nil {
		t.Fatal("build succeeded")
	}
	if left := databasesLike(t, testPrefix+"_tpl_broken_%"); len(left) > 0 {
		t.Errorf("failed build left %v", left)
	}
}

func TestMissingMigrationsDirectory(t *testing.T) {
	_, err := builder().Build(context.Background(), template.Template{Name: "missing",
		Sources: []template.Migrator{template.SQLFiles(os.DirFS("testdata/no-such-dir"))}})
	wd, _ := os.Getwd()
	want := `template "missing", source 1: migrations not found: migrations directory "testdata/no-such-dir" does not exist (working directory ` +
		wd + `); tests run in their package's directory, so check the path relative to it`
	if err == nil || err.Error() != want || !errors.Is(err, template.ErrMigrationsNotFound) {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestEmptyMigrationsDirectory(t *testing.T) {
	_, err := builder().Build(context.Background(), template.Template{Name: "empty",
		Sources: []template.Migrator{template.SQLFiles(os.DirFS("testdata/empty"))}})
	want := `template "empty", source 1: migrations not found: migrations directory "testdata/empty": it holds no .sql files (skipped: README.md); add migrations named like 001_init.sql`
	if err == nil || err.Error() != want || !errors.Is(err, template.ErrMigrationsNotFound) {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestBuildRejectsBadInputBeforeTouchingTheServer(t *testing.T) {
	ok := []template.Migrator{template.Func("v1", func(context.Context, *pgx.Conn) error { return nil })}
	for _, tc := range []struct {
		b    template.Builder
		t    template.Template
		want string
	}{
		{builder(), template.Template{Name: strings.Repeat("x", 40), Sources: ok},
			`invalid template name "` + strings.Repeat("x", 40) + `": it is 40 bytes long, the limit is 32; use a shorter name`},
		{template.Builder{Connect: srv.Connect, Prefix: "Bad-Prefix"}, template.Template{Name: "x", Sources: ok},
			`invalid prefix name "Bad-Prefix": character 'B' at byte 0 is not allowed; use lower-case letters, digits and underscores`},
		{builder(), template.Template{Name: "nover", Sources: []template.Migrator{template.Func("", nil)}},
			`template "nover", source 1: a Go migration needs a non-empty version string: it stands for the function's content, so bump it when the function changes`},
	} {
		_, err := tc.b.Build(context.Background(), tc.t)
		if err == nil || err.Error() != tc.want {
			t.Errorf("got  %v\nwant %s", err, tc.want)
		}
	}
}

func TestTemplateWithoutSourcesIsAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	b, err := builder().Build(ctx, template.Template{Name: "nothing"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s on %s", b.Database, srv.URL("postgres"))
	if b.Tracking.Tables != 0 {
		t.Errorf("tracking %+v", b.Tracking)
	}
}
