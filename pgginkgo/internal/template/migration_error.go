package template

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// MigrationError is a migration that failed while a template was built. For
// SQL files it points at the failing spot the way a compiler does, so an
// editor or terminal can jump to it:
//
//	migrations/002_orders.sql:3:29: ERROR: relation "userz" does not exist (SQLSTATE 42P01)
//	    2 | CREATE TABLE orders (
//	    3 |     user_id int REFERENCES userz (id)
//	      |                            ^
type MigrationError struct {
	Source  string // what was applied, e.g. `Go migration "v3"`; empty for SQL files
	File    string // the .sql file, with the directory when it is known
	Line    int    // 1-based; 0 when the position is unknown
	Column  int    // 1-based, in characters
	Excerpt string // the lines leading to the error and a caret under it
	Err     error  // usually a *pgconn.PgError
}

func (e *MigrationError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Source != "":
		b.WriteString(e.Source + ": ")
	}
	b.WriteString(e.Err.Error())
	var pgErr *pgconn.PgError
	if errors.As(e.Err, &pgErr) {
		for _, extra := range []struct{ label, text string }{
			{"DETAIL", pgErr.Detail}, {"HINT", pgErr.Hint}, {"CONTEXT", pgErr.Where},
		} {
			if extra.text != "" {
				fmt.Fprintf(&b, "\n%s: %s", extra.label, extra.text)
			}
		}
	}
	if e.Excerpt != "" {
		b.WriteString("\n" + e.Excerpt)
	}
	return b.String()
}

func (e *MigrationError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrMigrationFailed) true.
func (e *MigrationError) Is(target error) bool { return target == ErrMigrationFailed }

// sqlFileError locates err in src. stmt is the statement that was running
// when the server gave no position (runtime errors such as a violated
// constraint); its start is shown instead.
func sqlFileError(file, src string, base int, stmt *statement, err error) *MigrationError {
	me := &MigrationError{File: file, Err: err}
	off := -1
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Position > 0 {
		// Position counts characters, not bytes, from 1, in the query string
		// that was sent: the whole file or one statement starting at base.
		off = base + charToByte(src[base:], int(pgErr.Position)-1)
	} else if stmt != nil {
		off = stmt.Offset
	}
	if off < 0 || off > len(src) {
		return me
	}
	me.Line, me.Column = lineColumn(src, off)
	start := off
	if stmt != nil && stmt.Offset <= off {
		start = stmt.Offset
	}
	me.Excerpt = excerpt(src, start, off)
	return me
}

func charToByte(s string, chars int) int {
	i := 0
	for n := 0; n < chars && i < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

func lineColumn(src string, off int) (line, col int) {
	line = 1 + strings.Count(src[:off], "\n")
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(src[lineStart:off])
}

// excerpt shows up to three lines ending with the one holding off, from the
// statement's start at the earliest, and a caret under off.
func excerpt(src string, stmtStart, off int) string {
	const before = 2
	errLine, col := lineColumn(src, off)
	firstLine, _ := lineColumn(src, stmtStart)
	if errLine-firstLine > before {
		firstLine = errLine - before
	}
	lines := strings.Split(src, "\n")
	width := len(fmt.Sprint(errLine))
	var b strings.Builder
	for n := firstLine; n <= errLine && n <= len(lines); n++ {
		shown, _ := clip(strings.TrimRight(lines[n-1], "\r"), col, n == errLine)
		fmt.Fprintf(&b, "  %*d | %s\n", width, n, shown)
	}
	shown, from := clip(lines[errLine-1], col, true)
	caret := col - 1 - from
	if from > 0 {
		caret++ // the leading ellipsis
	}
	// Copy tabs from the line so the caret lines up in any tab width.
	var pad strings.Builder
	for i, r := range []rune(shown) {
		if i >= caret {
			break
		}
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	fmt.Fprintf(&b, "  %*s | %s^", width, "", pad.String())
	return b.String()
}

const (
	ellipsis     = "…"
	maxShownLine = 120
)

// clip shortens very long lines (generated or minified SQL) to a window
// around the error column, so the excerpt stays readable. from is the number
// of characters cut at the start.
func clip(line string, col int, errorLine bool) (shown string, from int) {
	r := []rune(line)
	if len(r) <= maxShownLine {
		return line, 0
	}
	if errorLine && col > maxShownLine-20 {
		from = col - (maxShownLine - 20)
	}
	to := min(len(r), from+maxShownLine)
	shown = string(r[from:to])
	if from > 0 {
		shown = ellipsis + shown
	}
	if to < len(r) {
		shown += ellipsis
	}
	return shown, from
}
