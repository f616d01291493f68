// Package sqlquote quotes names and values for the SQL text pgginkgo
// builds itself, where a statement cannot take parameters (CREATE
// DATABASE, ALTER ROLE … PASSWORD, COMMENT ON, ALTER SYSTEM).
package sqlquote

import "strings"

// Ident quotes name as one SQL identifier: it wraps name in double quotes
// and doubles each double quote inside, so that case and every character
// are kept. NUL bytes are dropped, as pgx's Identifier.Sanitize drops them,
// since PostgreSQL's text cannot hold one.
func Ident(name string) string {
	name = strings.ReplaceAll(name, "\x00", "")
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Literal quotes s as an SQL string constant: it wraps s in single quotes
// and doubles each single quote inside. It relies on
// standard_conforming_strings, on by default since PostgreSQL 9.1, under
// which a backslash is an ordinary character.
func Literal(s string) string {
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}
