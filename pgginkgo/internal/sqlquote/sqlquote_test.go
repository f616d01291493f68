package sqlquote_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template/pgtest"
)

var srv *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &srv)) }

// awkward are the names and values whose quoting goes wrong when done by
// hand: quotes of both kinds, a backslash (ordinary under
// standard_conforming_strings), case, spaces, SQL in a name, non-ASCII.
var awkward = []string{
	`plain`,
	`MixedCase`,
	`it's`,
	`say "hi"`,
	`'; DROP TABLE t; --`,
	`back\slash`,
	`"`,
	`''`,
	`with space`,
	`naïve ✓`,
}

func TestQuotedTextReadsBackUnchanged(t *testing.T) {
	ctx := context.Background()
	conn, err := srv.Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range awkward {
		// The simple protocol sends the text as it is, as the statements
		// pgginkgo builds with these functions are sent.
		rows, err := conn.Query(ctx, "SELECT "+sqlquote.Literal(s)+" AS "+sqlquote.Ident(s), pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		lit, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[string])
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if ident := rows.FieldDescriptions()[0].Name; lit != s || ident != s {
			t.Errorf("%q read back as the literal %q and the column name %q", s, lit, ident)
		}
	}
}

func TestQuoting(t *testing.T) {
	for _, c := range []struct{ in, ident, literal string }{
		{`a`, `"a"`, `'a'`},
		{`it's`, `"it's"`, `'it''s'`},
		{`say "hi"`, `"say ""hi"""`, `'say "hi"'`},
		{"nul\x00byte", `"nulbyte"`, "'nul\x00byte'"},
		{``, `""`, `''`},
	} {
		if got := sqlquote.Ident(c.in); got != c.ident {
			t.Errorf("Ident(%q) = %s, want %s", c.in, got, c.ident)
		}
		if got := sqlquote.Literal(c.in); got != c.literal {
			t.Errorf("Literal(%q) = %s, want %s", c.in, got, c.literal)
		}
		if want := (pgx.Identifier{c.in}).Sanitize(); sqlquote.Ident(c.in) != want {
			t.Errorf("Ident(%q) = %s, but pgx.Identifier.Sanitize gives %s", c.in, sqlquote.Ident(c.in), want)
		}
	}
}
