package template

import "strings"

// statement is one SQL statement of a migration file.
type statement struct {
	Text   string // from its first token up to, not including, the ';'
	Offset int    // byte offset of Text in the file
}

// splitStatements cuts a migration file into statements the way the server's
// lexer does: semicolons inside strings, quoted identifiers, dollar quotes,
// comments and SQL-standard function bodies (BEGIN ATOMIC … END) do not end a
// statement. It is needed twice: files that must run outside a transaction
// (CREATE INDEX CONCURRENTLY refuses a multi-statement query string), and
// locating the failing statement when the server reports no position.
func splitStatements(src string) []statement {
	var (
		out       []statement
		start     = -1 // first token of the current statement, -1 before it
		atomic    = 0  // nesting inside BEGIN ATOMIC bodies
		prevWord  string
		firstWord string
	)
	flush := func(end int) {
		if start >= 0 {
			out = append(out, statement{Text: src[start:end], Offset: start})
		}
		start, atomic, prevWord, firstWord = -1, 0, "", ""
	}
	mark := func(i int) {
		if start < 0 {
			start = i
		}
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(src[i:], "--"):
			i = skipLineComment(src, i)
		case strings.HasPrefix(src[i:], "/*"):
			i = skipBlockComment(src, i)
		case c == '\'':
			mark(i)
			i = skipQuoted(src, i, '\'', false)
		case c == '"':
			mark(i)
			i = skipQuoted(src, i, '"', false)
		case c == '$' && !precededByIdent(src, i):
			mark(i)
			if tag, ok := dollarTag(src, i); ok {
				end := strings.Index(src[i+len(tag):], tag)
				if end < 0 {
					i = len(src)
				} else {
					i += len(tag) + end + len(tag)
				}
			} else {
				i++
			}
		case c == ';':
			if atomic > 0 {
				i++
				continue
			}
			flush(i)
			i++
		case isIdentStart(c):
			mark(i)
			j := i
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			// E'…' strings treat backslash as an escape character.
			if j == i+1 && (c == 'E' || c == 'e') && j < len(src) && src[j] == '\'' {
				i = skipQuoted(src, j, '\'', true)
				continue
			}
			word := strings.ToUpper(src[i:j])
			if firstWord == "" {
				firstWord = word
			}
			switch {
			case word == "ATOMIC" && prevWord == "BEGIN" && firstWord == "CREATE":
				atomic++
			case atomic > 0 && word == "CASE":
				atomic++
			case atomic > 0 && word == "END":
				atomic--
			}
			prevWord = word
			i = j
		default:
			mark(i)
			i++
		}
	}
	flush(len(src))
	return out
}

func skipLineComment(src string, i int) int {
	if nl := strings.IndexByte(src[i:], '\n'); nl >= 0 {
		return i + nl + 1
	}
	return len(src)
}

// skipBlockComment honours nesting, which PostgreSQL (unlike the standard)
// allows.
func skipBlockComment(src string, i int) int {
	depth := 0
	for i < len(src) {
		switch {
		case strings.HasPrefix(src[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(src[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// skipQuoted skips a quoted token starting at src[i] == q; a doubled quote is
// an escaped quote, and with backslash set so is \q.
func skipQuoted(src string, i int, q byte, backslash bool) int {
	for i++; i < len(src); i++ {
		switch {
		case backslash && src[i] == '\\':
			i++
		case src[i] == q:
			if i+1 < len(src) && src[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return i
}

// dollarTag returns the opening tag ($$ or $name$) of a dollar-quoted string.
func dollarTag(src string, i int) (string, bool) {
	j := i + 1
	if j < len(src) && src[j] == '$' {
		return "$$", true
	}
	if j >= len(src) || !isIdentStart(src[j]) {
		return "", false
	}
	for j < len(src) && isIdentPart(src[j]) && src[j] != '$' {
		j++
	}
	if j < len(src) && src[j] == '$' {
		return src[i : j+1], true
	}
	return "", false
}

func precededByIdent(src string, i int) bool { return i > 0 && isIdentPart(src[i-1]) }

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$' }
