package template

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"testing"
	"testing/fstest"
)

// loaded is what load makes of a directory, in a form a test can compare.
type loaded struct {
	format string
	files  []string // base names in the order applied
	modes  []execMode
	chunks [][]string
}

func loadMap(t *testing.T, files map[string]string) (loaded, error) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	ms, f, err := SQLFiles(fsys).Named("migrations").load()
	if err != nil {
		return loaded{}, err
	}
	out := loaded{format: f.String()}
	for _, m := range ms {
		out.files = append(out.files, path.Base(m.name))
		out.modes = append(out.modes, m.mode)
		var cs []string
		for _, c := range m.chunks {
			cs = append(cs, strings.TrimSpace(c.Text))
			if !strings.HasPrefix(m.src[c.Offset:], strings.Fields(c.Text)[0]) && !strings.Contains(m.src, "ENVSUB") {
				t.Errorf("%s: chunk offset %d does not point at %q", m.name, c.Offset, c.Text)
			}
		}
		out.chunks = append(out.chunks, cs)
	}
	return out, nil
}

func mustLoad(t *testing.T, files map[string]string) loaded {
	t.Helper()
	l, err := loadMap(t, files)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return l
}

func eq[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

func TestGooseAppliesOnlyTheUpSectionInVersionOrder(t *testing.T) {
	l := mustLoad(t, map[string]string{
		"00010_later.sql": "-- +goose Up\nALTER TABLE accounts ADD note text;\n-- +goose Down\nALTER TABLE accounts DROP note;\n",
		"00002_accounts.sql": `-- +goose Up
-- a comment goose drops
CREATE TABLE accounts (
    id int PRIMARY KEY
);
-- +goose StatementBegin
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 1;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE accounts;
`,
		"00003_index.sql": "-- +goose NO TRANSACTION\n-- +goose up\nCREATE INDEX CONCURRENTLY accounts_id ON accounts (id);\n\n-- +goose down\nDROP INDEX accounts_id;\n",
	})
	if l.format != "goose" {
		t.Fatalf("format %q", l.format)
	}
	eq(t, "order", l.files, []string{"00002_accounts.sql", "00003_index.sql", "00010_later.sql"})
	eq(t, "modes", l.modes, []execMode{inTransaction, eachStatement, inTransaction})
	eq(t, "statements of 00002", l.chunks[0], []string{
		"CREATE TABLE accounts (\n    id int PRIMARY KEY\n);",
		"CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n    RETURN 1;\nEND;\n$$;",
	})
	eq(t, "statements of 00003", l.chunks[1], []string{"CREATE INDEX CONCURRENTLY accounts_id ON accounts (id);"})
}

func TestGooseEnvsub(t *testing.T) {
	t.Setenv("PGGINKGO_TEST_ROLE", "reporting")
	l := mustLoad(t, map[string]string{"001_a.sql": "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE ${PGGINKGO_TEST_ROLE}_t (x text DEFAULT '${PGGINKGO_TEST_UNSET:-none}');\n-- +goose ENVSUB OFF\nCREATE TABLE ${kept} (y int);\n"})
	eq(t, "statements", l.chunks[0], []string{"CREATE TABLE reporting_t (x text DEFAULT 'none');", "CREATE TABLE ${kept} (y int);"})
	_, err := loadMap(t, map[string]string{"001_a.sql": "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE t (x text DEFAULT '${PGGINKGO_TEST_UNSET?set it}');\n"})
	wantErr(t, err, "migration migrations/001_a.sql:3: ENVSUB: $PGGINKGO_TEST_UNSET is required: set it")
}

func TestNumericVersionOrders(t *testing.T) {
	l := mustLoad(t, map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id int PRIMARY KEY);", "1_a.down.sql": "DROP TABLE a;",
		"2_b.up.sql": "CREATE TABLE b (id int PRIMARY KEY);", "2_b.down.sql": "DROP TABLE b;",
		"10_c.up.sql": "ALTER TABLE b ADD a_id int REFERENCES a;", "10_c.down.sql": "ALTER TABLE b DROP a_id;",
		"notes.sql": "this is not a migration golang-migrate reads",
	})
	if l.format != "golang-migrate" {
		t.Fatalf("format %q", l.format)
	}
	eq(t, "order", l.files, []string{"1_a.up.sql", "2_b.up.sql", "10_c.up.sql"})
	eq(t, "modes", l.modes, []execMode{oneQuery, oneQuery, oneQuery})

	l = mustLoad(t, map[string]string{
		"V1__a.sql": "CREATE TABLE a (id int);", "V2__b.sql": "CREATE TABLE b (id int);", "V10__c.sql": "CREATE TABLE c (id int);",
		"V1_1__a2.sql": "CREATE INDEX CONCURRENTLY a_id ON a (id);", "U2__b.sql": "DROP TABLE b;",
		"R__view.sql": "CREATE OR REPLACE VIEW v AS SELECT * FROM c;", "R__a_view.sql": "CREATE OR REPLACE VIEW w AS SELECT 1;",
	})
	if l.format != "Flyway" {
		t.Fatalf("format %q", l.format)
	}
	eq(t, "order", l.files, []string{"V1__a.sql", "V1_1__a2.sql", "V2__b.sql", "V10__c.sql", "R__a_view.sql", "R__view.sql"})
	eq(t, "modes", l.modes, []execMode{inTransaction, eachStatement, inTransaction, inTransaction, inTransaction, inTransaction})

	l = mustLoad(t, map[string]string{
		"10_c.sql": "-- +migrate Up\nCREATE TABLE c (id int);\n", "2_b.sql": "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n-- +migrate Down\nDROP INDEX i;\n",
		"1_a.sql": "-- +migrate Up\n-- +migrate StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\nSELECT 1;\n$$;\n-- +migrate StatementEnd\n",
	})
	if l.format != "sql-migrate" {
		t.Fatalf("format %q", l.format)
	}
	eq(t, "order", l.files, []string{"1_a.sql", "2_b.sql", "10_c.sql"})
	eq(t, "modes", l.modes, []execMode{inTransaction, eachStatement, inTransaction})
	eq(t, "statements of 1_a", l.chunks[0], []string{"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\nSELECT 1;\n$$;"})
}

func TestDbmateTernAtlas(t *testing.T) {
	l := mustLoad(t, map[string]string{
		"20240102000000_b.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON a (id);\n\n-- migrate:down\nDROP INDEX i;\n",
		"20240101000000_a.sql": "-- migrate:up\nCREATE TABLE a (id int);\nCREATE TABLE a2 (id int);\n-- migrate:down\nDROP TABLE a;\n",
	})
	eq(t, "dbmate order", l.files, []string{"20240101000000_a.sql", "20240102000000_b.sql"})
	eq(t, "dbmate modes", l.modes, []execMode{inTransaction, oneQuery})
	if !strings.Contains(l.chunks[0][0], "CREATE TABLE a2") || strings.Contains(l.chunks[0][0], "DROP") {
		t.Errorf("dbmate Up part: %q", l.chunks[0][0])
	}

	l = mustLoad(t, map[string]string{
		"2_b.sql":  "---- tern: disable-tx ----\nCREATE INDEX CONCURRENTLY i ON a (id);\n",
		"1_a.sql":  "CREATE TABLE a (id int);\n---- create above / drop below ----\nDROP TABLE a;\n",
		"10_x.sql": "CREATE TABLE x (id int);\n", "3_c.sql": "SELECT 1;", "4_d.sql": "SELECT 1;", "5_e.sql": "SELECT 1;",
		"6_f.sql": "SELECT 1;", "7_g.sql": "SELECT 1;", "8_h.sql": "SELECT 1;", "9_i.sql": "SELECT 1;",
	})
	if l.format != "tern" {
		t.Fatalf("format %q", l.format)
	}
	eq(t, "tern order", l.files[:3], []string{"1_a.sql", "2_b.sql", "3_c.sql"})
	eq(t, "tern last", l.files[9:], []string{"10_x.sql"})
	eq(t, "tern Up part", l.chunks[0], []string{"CREATE TABLE a (id int);"})
	eq(t, "tern modes", l.modes[:2], []execMode{inTransaction, eachStatement})

	l = mustLoad(t, map[string]string{
		"atlas.sum":            "h1:x=\n",
		"20240101000000_a.sql": "CREATE TABLE a (id int);\n",
		"20240102000000_b.sql": "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY i ON a (id);\nCREATE INDEX CONCURRENTLY j ON a (id);\n",
	})
	if l.format != "Atlas" {
		t.Fatalf("format %q", l.format)
	}
	eq(t, "atlas modes", l.modes, []execMode{inTransaction, eachStatement})
	eq(t, "atlas statements", l.chunks[1], []string{"CREATE INDEX CONCURRENTLY i ON a (id)", "CREATE INDEX CONCURRENTLY j ON a (id)"})
}

func TestPlainDirectoriesKeepTheirRules(t *testing.T) {
	l := mustLoad(t, map[string]string{
		"002_b.sql": "-- pgginkgo:no-transaction\nCREATE INDEX CONCURRENTLY i ON a (id);", "001_a.sql": "CREATE TABLE a (id int);",
		"001_a.down.sql": "DROP TABLE a;",
	})
	if l.format != "plain SQL" {
		t.Fatalf("format %q", l.format)
	}
	eq(t, "order", l.files, []string{"001_a.sql", "002_b.sql"})
	eq(t, "modes", l.modes, []execMode{inTransaction, eachStatement})
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v\nwant it to contain %q", err, want)
	}
}

func TestRefusesWhatTheToolWouldRefuseOrMisread(t *testing.T) {
	up := func(sql string) string { return "-- +goose Up\n" + sql + "\n-- +goose Down\n" }
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"two formats", map[string]string{"001_a.sql": up("SELECT 1;"), "002_b.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\n"},
			`migrations directory "migrations" mixes the files of goose (migrations/001_a.sql) and dbmate (migrations/002_b.sql); keep one tool's migrations per directory`},
		{"two formats by name", map[string]string{"1_a.up.sql": "SELECT 1;", "V2__b.sql": "SELECT 1;"},
			"mixes the files of golang-migrate (migrations/1_a.up.sql) and Flyway (migrations/V2__b.sql)"},
		{"goose duplicate version", map[string]string{"1_a.sql": up("SELECT 1;"), "001_b.sql": up("SELECT 2;")},
			"invalid migrations: migrations/001_b.sql and migrations/1_a.sql have the same goose version 1; give each migration its own version"},
		{"golang-migrate duplicate version", map[string]string{"1_a.up.sql": "SELECT 1;", "01_b.up.sql": "SELECT 2;"},
			"have the same golang-migrate version"},
		{"Flyway duplicate version", map[string]string{"V1.0__a.sql": "SELECT 1;", "V1__b.sql": "SELECT 2;"}, "have the same Flyway version 1"},
		{"tern duplicate", map[string]string{"1_a.sql": "SELECT 1;\n" + ternSeparator + "\n", "01_b.sql": "SELECT 2;"}, "have the same tern version"},
		{"dbmate duplicate", map[string]string{"1_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\n", "1_b.sql": "-- migrate:up\nSELECT 2;\n-- migrate:down\n"},
			"have the same dbmate version 1"},
		{"goose Up part empty", map[string]string{"001_a.sql": "-- +goose Up\n-- +goose Down\nCREATE TABLE a (id int);\n"},
			`migration migrations/001_a.sql has an empty Up part but SQL in its Down part; put the statements that build the schema between "-- +goose Up" and "-- +goose Down"`},
		{"dbmate Up part empty", map[string]string{"001_a.sql": "-- migrate:up\n-- migrate:down\nCREATE TABLE a (id int);\n"}, "has an empty Up part but SQL in its Down part"},
		{"sql-migrate Up part empty", map[string]string{"001_a.sql": "-- +migrate Up\n-- +migrate Down\nDROP TABLE a;\n"}, "has an empty Up part"},
		{"tern Up part empty", map[string]string{"1_a.sql": "-- nothing\n" + ternSeparator + "\nDROP TABLE a;\n"}, `has no SQL above "---- create above / drop below ----"`},
		{"goose without Up", map[string]string{"001_a.sql": up("SELECT 1;"), "002_b.sql": "SELECT 2;\n"},
			`migration migrations/002_b.sql:1: SQL before "-- +goose Up"`},
		{"misspelt goose", map[string]string{"001_a.sql": "-- +goos Up\nSELECT 1;\n"},
			`migration migrations/001_a.sql:1: "-- +goos Up" looks like a misspelt goose annotation; goose ignores it, so write "-- +goose Up"`},
		{"goose in capitals", map[string]string{"001_a.sql": "-- +GOOSE Up\nSELECT 1;\n"}, "looks like a misspelt goose annotation"},
		{"unknown goose annotation", map[string]string{"001_a.sql": "-- +goose Up\n-- +goose StatementBgin\nSELECT 1;\n"},
			`migration migrations/001_a.sql:2: unknown goose annotation "-- +goose StatementBgin"`},
		{"indented goose annotation", map[string]string{"001_a.sql": "  -- +goose Up\nSELECT 1;\n"}, "goose reads an annotation only at the start of a line"},
		{"sql-migrate lower case", map[string]string{"1_a.sql": "-- +migrate up\nSELECT 1;\n"}, "sql-migrate knows Up, Down, StatementBegin and StatementEnd, spelt exactly so"},
		{"misspelt dbmate", map[string]string{"1_a.sql": "-- migrat:up\nSELECT 1;\n-- migrate:down\n"}, `"-- migrat:up" looks like a misspelt dbmate marker`},
		{"dbmate unknown", map[string]string{"1_a.sql": "-- migrate:upp\nSELECT 1;\n-- migrate:down\n"}, `dbmate knows only "-- migrate:up" and "-- migrate:down"`},
		{"misspelt tern", map[string]string{"1_a.sql": "SELECT 1;\n---- create above / drop below ---\n"}, "looks like a misspelt tern marker"},
		{"misspelt Atlas", map[string]string{"atlas.sum": "", "1_a.sql": "-- atlas:txmod none\n\nSELECT 1;\n"}, `Atlas has no directive "txmod"`},
		{"goose unterminated block", map[string]string{"001_a.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n"},
			`migration migrations/001_a.sql:2: "-- +goose StatementBegin" is never closed; add "-- +goose StatementEnd" after the statement`},
		{"sql-migrate unterminated block", map[string]string{"1_a.sql": "-- +migrate Up\n-- +migrate StatementBegin\nSELECT 1;\n"}, `"-- +migrate StatementBegin" is never closed`},
		{"goose missing semicolon", map[string]string{"001_a.sql": "-- +goose Up\nCREATE TABLE a (id int)\n-- +goose Down\n"}, "migration migrations/001_a.sql:2: the statement does not end with ';'"},
		{"goose Go migration", map[string]string{"001_a.sql": up("SELECT 1;"), "002_seed.go": "package migrations"},
			"migrations/002_seed.go is a goose Go migration, and SQLDir applies SQL files only, so the schema would lack it; use the goose adapter"},
		{"tern template", map[string]string{"1_a.sql": "{{ template \"shared/x.sql\" . }}\n" + ternSeparator + "\n"},
			"migration migrations/1_a.sql:1: a tern template {{ … }}; SQLDir does not run templates: use the tern adapter"},
		{"tern gap", map[string]string{"1_a.sql": "SELECT 1;\n" + ternSeparator + "\n", "3_c.sql": "SELECT 3;"}, "migration 2 is missing before migrations/3_c.sql"},
		{"Flyway placeholder", map[string]string{"V1__a.sql": "CREATE SCHEMA ${schema};"}, "migration migrations/V1__a.sql:1: a Flyway placeholder ${…}"},
		{"Flyway one underscore", map[string]string{"V1__a.sql": "SELECT 1;", "V2_b.sql": "SELECT 2;"}, "Flyway needs two underscores between the version and the description"},
		{"only Down files", map[string]string{"1_a.up.sql.bak": "", "1_a.down.sql": "DROP TABLE a;", "2_b.up.sql": "-- migrate:up\n"}, "mixes the files of"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadMap(t, c.files)
			wantErr(t, err, c.want)
			if !errors.Is(err, ErrInvalidMigrations) {
				t.Errorf("errors.Is(err, ErrInvalidMigrations) is false for %v", err)
			}
		})
	}
}

func TestGooseIgnoresCaseOfItsCommands(t *testing.T) {
	l := mustLoad(t, map[string]string{"001_a.sql": "-- +goose up\n-- +goose statementbegin\nSELECT 1;\n-- +goose STATEMENTEND\n-- +goose DOWN\n"})
	eq(t, "statements", l.chunks[0], []string{"SELECT 1;"})
}

// BenchmarkFingerprint300 reads a 300-file directory per format, as every
// run does before it boots: the cost the format detection adds to start-up.
func BenchmarkFingerprint300(b *testing.B) {
	for _, c := range []struct{ name, file, body string }{
		{"plain", "%03d_t.sql", "CREATE TABLE t%d (id int PRIMARY KEY, note text);\nCREATE INDEX ON t%[1]d (note);\n"},
		{"goose", "%05d_t.sql", "-- +goose Up\nCREATE TABLE t%d (id int PRIMARY KEY, note text);\n-- +goose StatementBegin\nCREATE FUNCTION f%[1]d() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE t%[1]d;\n"},
		{"golang-migrate", "%d_t.up.sql", "CREATE TABLE t%d (id int PRIMARY KEY, note text);\n"},
	} {
		fsys := fstest.MapFS{}
		for i := 1; i <= 300; i++ {
			fsys[fmt.Sprintf(c.file, i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(c.body, i))}
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				// A new SQLDir each time: one keeps what it read.
				if _, err := SQLFiles(fsys).Fingerprint(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
