package gsql

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// parseName turns a user-written relation name into a quoted identifier.
//
// Names reach SQL text (HaveRowCount, HaveRow) and to_regclass, so they are
// always quoted rather than checked against a pattern: quoting is what makes
// `weird"name` work and what turns `jobs; DROP TABLE jobs` into a harmless
// lookup of a table with that odd name.
//
// A dot outside double quotes separates schema from table, as it does in SQL,
// so "audit.events" is table events in schema audit. A part that starts with a
// double quote is read as a quoted SQL identifier ("" stands for one quote),
// which is how a name containing a dot is written: `"my.schema".events`. Any
// other part is taken literally, quotes and all. Unlike SQL, unquoted parts are
// not folded to lower case: the name is the one stored in the catalog.
//
// Its errors are final: Eventually gives up at once on a malformed name.
func parseName(name string) (id pgx.Identifier, err error) {
	defer func() {
		if err != nil {
			err = final(err)
		}
	}()
	if name == "" {
		return nil, errors.New("the name is empty; pass a table name such as \"jobs\" or \"audit.events\"")
	}
	var parts pgx.Identifier
	rest := name
	for {
		var part string
		var err error
		if strings.HasPrefix(rest, `"`) {
			part, rest, err = quotedPart(rest)
			if err != nil {
				return nil, fmt.Errorf("name %q: %w", name, err)
			}
		} else if i := strings.IndexByte(rest, '.'); i >= 0 {
			part, rest = rest[:i], rest[i:]
		} else {
			part, rest = rest, ""
		}
		if part == "" {
			return nil, fmt.Errorf("name %q has an empty part; write schema.table or table", name)
		}
		parts = append(parts, part)
		if rest == "" {
			break
		}
		rest = rest[1:] // the separating dot
		if rest == "" {
			return nil, fmt.Errorf("name %q ends with a dot; write schema.table or table", name)
		}
	}
	if len(parts) > 2 {
		return nil, fmt.Errorf("name %q has %d parts; write schema.table or table (quote a dot that belongs to a name: \"a.b\")", name, len(parts))
	}
	return parts, nil
}

// quotedPart reads one double-quoted identifier from the start of s and
// returns it unquoted along with what follows it.
func quotedPart(s string) (part, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		rest = s[i+1:]
		if rest != "" && rest[0] != '.' {
			return "", "", fmt.Errorf("unexpected %q after the quoted part", rest)
		}
		return b.String(), rest, nil
	}
	return "", "", errors.New("a double quote is not closed (write \"\" for a quote inside a quoted part)")
}
