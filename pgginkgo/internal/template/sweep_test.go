package template_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// stampedBuild builds a template that records when it was used, as runs on
// an existing server do.
func stampedBuild(t *testing.T, name, sql string) template.Built {
	t.Helper()
	b := builder()
	b.Stamp = true
	built, err := b.Build(context.Background(), template.Template{Name: name, Sources: []template.Migrator{
		template.SQLFiles(fstest.MapFS{"001.sql": {Data: []byte(sql)}}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = newAdmin(t).DropTemplate(context.Background(), built.Database) })
	return built
}

func comment(t *testing.T, database string) string {
	t.Helper()
	var c string
	if err := connect(t, "postgres").QueryRow(context.Background(),
		`SELECT COALESCE(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $1`, database).Scan(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func setComment(t *testing.T, database, c string) {
	t.Helper()
	if _, err := connect(t, "postgres").Exec(context.Background(), fmt.Sprintf("COMMENT ON DATABASE %s IS '%s'", database, c)); err != nil {
		t.Fatal(err)
	}
}

func TestHalfBuiltTemplateIsDroppedAndRebuilt(t *testing.T) {
	ctx := context.Background()
	tpl := template.Template{Name: "half", Sources: []template.Migrator{
		template.SQLFiles(fstest.MapFS{"001.sql": {Data: []byte(uniqueSQL(t))}}),
	}}
	first, err := builder().Build(ctx, tpl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = newAdmin(t).DropTemplate(ctx, first.Database) })
	// What a build killed before its last step leaves: the database,
	// connectable, with no completion marker, and its table gone missing.
	conn := connect(t, "postgres")
	for _, q := range []string{
		"ALTER DATABASE " + first.Database + " WITH IS_TEMPLATE false ALLOW_CONNECTIONS true",
		"COMMENT ON DATABASE " + first.Database + " IS NULL",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := connect(t, first.Database).Exec(ctx, "DROP TABLE t"); err != nil {
		t.Fatal(err)
	}
	var logs []string
	b := builder()
	b.Logf = func(format string, a ...any) { logs = append(logs, fmt.Sprintf(format, a...)) }
	second, err := b.Build(ctx, tpl)
	if err != nil {
		t.Fatal(err)
	}
	if second.Reused || second.Database != first.Database {
		t.Errorf("second build %+v: want %s rebuilt, not reused", second, first.Database)
	}
	want := "pgginkgo: dropping incomplete template " + first.Database + " left by an interrupted build"
	if !slices.Contains(logs, want) {
		t.Errorf("log %q, want %q", logs, want)
	}
	a := newAdmin(t)
	clone := "ttest_half_clone"
	if err := a.Clone(ctx, second.Database, clone); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Drop(ctx, clone) }()
	var tables int
	if err := connect(t, clone).QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 't'`).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("the rebuilt template has %d table t (%v), want 1", tables, err)
	}
}

func TestStampedTemplatesAreSweptWhenUnused(t *testing.T) {
	ctx := context.Background()
	freshSQL := uniqueSQL(t)
	fresh := stampedBuild(t, "fresh", freshSQL)
	old, half, building := stampedBuild(t, "old", uniqueSQL(t)), stampedBuild(t, "half", uniqueSQL(t)), stampedBuild(t, "building", uniqueSQL(t))
	if c := comment(t, fresh.Database); !strings.HasPrefix(c, "pgginkgo template "+fresh.Hash+" complete; used 20") {
		t.Errorf("a stamped build's comment is %q", c)
	}
	setComment(t, old.Database, "pgginkgo template "+old.Hash+" complete; used "+time.Now().Add(-8*24*time.Hour).UTC().Format(time.RFC3339))
	setComment(t, half.Database, "")
	setComment(t, building.Database, "")
	// A build in progress holds its lock, whose second key is the first
	// four bytes of the hash: the sweep must leave that template alone.
	key, err := strconv.ParseUint(building.Hash[:8], 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, "postgres").Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, int32(0x70676b74), int32(uint32(key))); err != nil {
		t.Fatal(err)
	}

	swept, err := builder().SweepTemplates(ctx, connect(t, "postgres"), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	left := databasesLike(t, `ttest\_tpl\_%`)
	for _, gone := range []string{old.Database, half.Database} {
		if slices.Contains(left, gone) || !slices.Contains(swept.Dropped, gone) {
			t.Errorf("%s was not dropped: %+v", gone, swept)
		}
	}
	if got := swept.Reasons[half.Database]; got != "incomplete: its build never finished" {
		t.Errorf("why %s: %q", half.Database, got)
	}
	if got := swept.Reasons[old.Database]; !strings.HasPrefix(got, "unused since ") {
		t.Errorf("why %s: %q", old.Database, got)
	}
	if !slices.Contains(left, fresh.Database) || slices.Contains(swept.Dropped, fresh.Database) {
		t.Errorf("%s, used now, was swept: %+v", fresh.Database, swept)
	}
	if !slices.Contains(left, building.Database) || !slices.Contains(swept.Left, building.Database) ||
		swept.Reasons[building.Database] != "incomplete: its build never finished; left: a run is building it" {
		t.Errorf("%s, locked by a build, was not left: %+v", building.Database, swept)
	}

	// A run that reuses a template whose stamp is stale renews it; a fresh
	// stamp is left as it is.
	stale := time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)
	setComment(t, fresh.Database, "pgginkgo template "+fresh.Hash+" complete; used "+stale)
	again := stampedBuild(t, "fresh", freshSQL)
	renewed := comment(t, fresh.Database)
	if !again.Reused || strings.HasSuffix(renewed, stale) {
		t.Errorf("reusing a template stamped %s left %q (reused %v)", stale, renewed, again.Reused)
	}
	stampedBuild(t, "fresh", freshSQL)
	if c := comment(t, fresh.Database); c != renewed {
		t.Errorf("a fresh stamp was rewritten: %q, then %q", renewed, c)
	}
}
