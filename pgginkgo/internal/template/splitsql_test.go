package template

import (
	"slices"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{"SELECT 1; SELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"-- only a comment;\n/* and; another */ ;;", nil},
		{"SELECT 'a;b'; SELECT \"x;y\" FROM t", []string{"SELECT 'a;b'", `SELECT "x;y" FROM t`}},
		{"SELECT 'it''s;'; SELECT E'\\';'", []string{"SELECT 'it''s;'", `SELECT E'\';'`}},
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\nSELECT 2;", []string{
			"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$", "SELECT 2"}},
		{"DO $body$ BEGIN PERFORM 1; END $body$; SELECT $1;", []string{"DO $body$ BEGIN PERFORM 1; END $body$", "SELECT $1"}},
		{"/* outer /* inner; */ still; */ SELECT 1;", []string{"SELECT 1"}},
		{"CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; SELECT 3", []string{
			"CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END", "SELECT 3"}},
		{"BEGIN; SELECT 1; COMMIT;", []string{"BEGIN", "SELECT 1", "COMMIT"}},
		{"SELECT a$b FROM t; SELECT 1", []string{"SELECT a$b FROM t", "SELECT 1"}},
	} {
		var got []string
		for _, s := range splitStatements(tc.src) {
			got = append(got, s.Text)
			if tc.src[s.Offset:s.Offset+len(s.Text)] != s.Text {
				t.Errorf("offset %d does not point at %q", s.Offset, s.Text)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("splitStatements(%q)\n got %q\nwant %q", tc.src, got, tc.want)
		}
	}
}

func TestNoTransactionMarker(t *testing.T) {
	for src, want := range map[string]bool{
		"-- pgginkgo:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);": true,
		"\n-- Adds an index.\n--   pgginkgo:no-transaction\nCREATE INDEX":   true,
		"CREATE INDEX i ON t (x); -- pgginkgo:no-transaction":               false,
		"SELECT 1;\n-- pgginkgo:no-transaction":                             false,
	} {
		if got := hasNoTransactionMarker(src); got != want {
			t.Errorf("hasNoTransactionMarker(%q) = %v, want %v", src, got, want)
		}
	}
}
