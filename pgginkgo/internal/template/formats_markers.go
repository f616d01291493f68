package template

import (
	"fmt"
	"strings"
)

// The tools with Up and Down sections in one file. Each parser follows its
// tool's own rules, read from the tool's source: where a statement ends,
// which lines are dropped, which markers open and close a block, and what
// the tool refuses. A file the tool would refuse is refused here too, with
// the line to fix.

// line is one line of a file and the byte offset where it starts.
type line struct {
	text string // without the line break
	off  int
	no   int // 1-based
}

func splitLines(src string) []line {
	var out []line
	off := 0
	for i, t := range strings.SplitAfter(src, "\n") {
		if t == "" {
			break
		}
		out = append(out, line{text: strings.TrimRight(t, "\r\n"), off: off, no: i + 1})
		off += len(t)
	}
	return out
}

// endsWithSemicolon is the end of a statement for goose and sql-migrate:
// the last word before a -- comment ends in ';'.
func endsWithSemicolon(text string) bool {
	prev := ""
	for _, w := range strings.Fields(text) {
		if strings.HasPrefix(w, "--") {
			break
		}
		prev = w
	}
	return strings.HasSuffix(prev, ";")
}

// chunker collects the lines of one statement.
type chunker struct {
	buf   strings.Builder
	start int // offset of the first line, -1 when empty
	first int // its line number
	out   []statement
}

func newChunker() *chunker { return &chunker{start: -1} }

func (c *chunker) add(l line, text string) {
	if c.start < 0 {
		c.start, c.first = l.off, l.no
	}
	c.buf.WriteString(text)
	c.buf.WriteByte('\n')
}

func (c *chunker) empty() bool { return strings.TrimSpace(c.buf.String()) == "" }

func (c *chunker) flush() {
	if !c.empty() {
		c.out = append(c.out, statement{Text: strings.TrimSpace(c.buf.String()), Offset: c.start})
	}
	c.buf.Reset()
	c.start = -1
}

// parseGoose reads a goose SQL migration: the statements between
// "-- +goose Up" and "-- +goose Down", each ending at a line that ends in
// ';' unless a StatementBegin/StatementEnd block keeps it whole. Comment
// lines before a statement are dropped, as goose drops them.
func parseGoose(f sourceFile) (migration, error) {
	const (
		start = iota
		up
		upBlock
		down
		downBlock
	)
	state, useTx, envsub := start, true, false
	blockLine := 0
	up1, down1 := newChunker(), newChunker()
	cur := func() *chunker {
		if state >= down {
			return down1
		}
		return up1
	}
	for _, l := range splitLines(f.src) {
		trimmed := strings.TrimSpace(l.text)
		if state == start && trimmed == "" {
			continue
		}
		if strings.HasPrefix(trimmed, "--") && strings.Contains(l.text, "+goose") {
			cmd := strings.TrimSpace(strings.Replace(strings.ReplaceAll(l.text, "--", ""), "+goose", "", 1))
			fail := func(format string, a ...any) (migration, error) {
				return migration{}, fmt.Errorf("migration %s:%d: %s", f.name, l.no, fmt.Sprintf(format, a...))
			}
			switch {
			case strings.EqualFold(cmd, "Up"):
				if state != start {
					return fail("a second \"-- +goose Up\"; goose allows one per file")
				}
				state = up
			case strings.EqualFold(cmd, "Down"):
				if state != up {
					if state == start {
						return fail("\"-- +goose Down\" before \"-- +goose Up\"; goose needs the Up section first")
					}
					return fail("\"-- +goose Down\" inside a StatementBegin block (line %d) or after another Down; close the block with \"-- +goose StatementEnd\" first", blockLine)
				}
				if !up1.empty() {
					return migration{}, missingSemicolon(f, up1)
				}
				state = down
			case strings.EqualFold(cmd, "StatementBegin"):
				if state != up && state != down {
					return fail("\"-- +goose StatementBegin\" must follow \"-- +goose Up\" or \"-- +goose Down\", outside another block")
				}
				// A statement left open above the block joins it, as in goose.
				state++
				blockLine = l.no
			case strings.EqualFold(cmd, "StatementEnd"):
				if state != upBlock && state != downBlock {
					return fail("\"-- +goose StatementEnd\" without a StatementBegin before it")
				}
				cur().flush()
				state--
			case strings.EqualFold(cmd, "NO TRANSACTION"):
				useTx = false
			case strings.EqualFold(cmd, "ENVSUB ON"):
				envsub = true
			case strings.EqualFold(cmd, "ENVSUB OFF"):
				envsub = false
			default:
				return fail("unknown goose annotation %q; goose knows Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, ENVSUB ON and ENVSUB OFF", trimmed)
			}
			continue
		}
		c := cur()
		if c.start < 0 && (strings.HasPrefix(trimmed, "--") || l.text == "") {
			continue
		}
		if state == start {
			return migration{}, fmt.Errorf("migration %s:%d: SQL before \"-- +goose Up\"; goose needs the annotation above the first statement", f.name, l.no)
		}
		text := l.text
		if envsub && state != down && state != downBlock {
			var err error
			if text, err = expandEnv(text); err != nil {
				return migration{}, fmt.Errorf("migration %s:%d: ENVSUB: %w", f.name, l.no, err)
			}
		}
		c.add(l, text)
		if (state == up || state == down) && endsWithSemicolon(l.text) {
			c.flush()
		}
	}
	switch state {
	case start:
		return migration{}, fmt.Errorf("migration %s has no \"-- +goose Up\" annotation; goose needs one in every file, above its first statement", f.name)
	case upBlock, downBlock:
		return migration{}, fmt.Errorf("migration %s:%d: \"-- +goose StatementBegin\" is never closed; add \"-- +goose StatementEnd\" after the statement", f.name, blockLine)
	}
	if c := cur(); !c.empty() {
		return migration{}, missingSemicolon(f, c)
	}
	if err := emptyUp(f, len(up1.out) == 0, len(down1.out) > 0, "-- +goose Up", "-- +goose Down"); err != nil {
		return migration{}, err
	}
	m := migration{name: f.name, src: f.src, chunks: up1.out}
	if !useTx {
		m.mode = eachStatement
	}
	return m, nil
}

func missingSemicolon(f sourceFile, c *chunker) error {
	return fmt.Errorf("migration %s:%d: the statement does not end with ';' at the end of a line, so the tool cannot tell where it ends; add the ';', or wrap the statement in StatementBegin/StatementEnd", f.name, c.first)
}

// emptyUp refuses a file whose Up part holds nothing while its Down part
// holds SQL: the statements are almost always below the wrong marker, and
// the tool would record the version and create nothing.
func emptyUp(f sourceFile, upEmpty, downHasSQL bool, upMarker, downMarker string) error {
	if upEmpty && downHasSQL {
		return fmt.Errorf("migration %s has an empty Up part but SQL in its Down part; put the statements that build the schema between %q and %q", f.name, upMarker, downMarker)
	}
	return nil
}

// parseSQLMigrate reads a sql-migrate migration. sql-migrate matches its
// markers case-sensitively, drops lines that start with "-- " but not
// "-- +", and ends a statement at a line ending in ';' outside a
// StatementBegin/StatementEnd block.
func parseSQLMigrate(f sourceFile) (migration, error) {
	const none, up, down = 0, 1, 2
	dir, noTx := none, false
	inBlock, ended, blockLine := false, false, 0
	chunks := [3]*chunker{nil, newChunker(), newChunker()}
	for _, l := range splitLines(f.src) {
		if strings.HasPrefix(l.text, "-- ") && !strings.HasPrefix(l.text, "-- +") {
			continue
		}
		if strings.HasPrefix(l.text, "-- +migrate ") {
			fields := strings.Fields(l.text[len("-- +migrate "):])
			switch fields[0] {
			case "Up", "Down":
				if dir != none && !chunks[dir].empty() {
					return migration{}, missingSemicolon(f, chunks[dir])
				}
				dir = up
				if fields[0] == "Down" {
					dir = down
				} else if oneOf("notransaction", fields[1:]...) {
					noTx = true
				}
			case "StatementBegin":
				if dir != none {
					inBlock, blockLine = true, l.no
				}
			case "StatementEnd":
				if dir != none {
					ended, inBlock = inBlock, false
				}
			}
		}
		if dir == none {
			continue
		}
		if !strings.HasPrefix(l.text, "-- +") {
			chunks[dir].add(l, l.text)
		}
		if (!inBlock && endsWithSemicolon(l.text)) || ended {
			ended = false
			chunks[dir].flush()
		}
	}
	switch {
	case inBlock:
		return migration{}, fmt.Errorf("migration %s:%d: \"-- +migrate StatementBegin\" is never closed; add \"-- +migrate StatementEnd\" after the statement", f.name, blockLine)
	case dir == none:
		return migration{}, fmt.Errorf("migration %s has no \"-- +migrate Up\" annotation; sql-migrate needs one above the first statement", f.name)
	case !chunks[dir].empty():
		return migration{}, missingSemicolon(f, chunks[dir])
	}
	if err := emptyUp(f, len(chunks[up].out) == 0, len(chunks[down].out) > 0, "-- +migrate Up", "-- +migrate Down"); err != nil {
		return migration{}, err
	}
	m := migration{name: f.name, src: f.src, chunks: chunks[up].out}
	if noTx {
		m.mode = eachStatement
	}
	return m, nil
}

// parseDbmate reads a dbmate migration: the text from "-- migrate:up" to
// "-- migrate:down", sent as one query, in a transaction unless the Up
// marker says transaction:false.
func parseDbmate(f sourceFile) (migration, error) {
	upAt := dbmateMarker.FindAllStringSubmatchIndex(f.src, -1)
	upStart, downStart := -1, -1
	for _, m := range upAt {
		switch f.src[m[2]:m[3]] {
		case "up":
			if upStart < 0 {
				upStart = m[0]
			}
		case "down":
			if downStart < 0 {
				downStart = m[0]
			}
		}
	}
	switch {
	case upStart < 0:
		return migration{}, fmt.Errorf("migration %s has no \"-- migrate:up\" marker; dbmate needs one above the first statement", f.name)
	case downStart < 0:
		return migration{}, fmt.Errorf("migration %s has no \"-- migrate:down\" marker; dbmate refuses a file without one (leave the Down part empty if there is nothing to undo)", f.name)
	case upStart > downStart:
		return migration{}, fmt.Errorf("migration %s has \"-- migrate:down\" above \"-- migrate:up\"; dbmate needs the Up part first", f.name)
	}
	for _, l := range splitLines(f.src[:upStart]) {
		if t := strings.TrimSpace(l.text); t != "" && !strings.HasPrefix(t, "--") {
			return migration{}, fmt.Errorf("migration %s:%d: SQL above \"-- migrate:up\"; dbmate runs nothing there: move it into the Up part", f.name, l.no)
		}
	}
	body := f.src[upStart:downStart]
	m := migration{name: f.name, src: f.src, chunks: []statement{{Text: body, Offset: upStart}}}
	header := strings.Fields(strings.SplitN(body, "\n", 2)[0])
	if oneOf("transaction:false", header...) {
		m.mode = oneQuery
	}
	if err := emptyUp(f, len(splitStatements(body)) == 0, len(splitStatements(f.src[downStart:])) > 0, "-- migrate:up", "-- migrate:down"); err != nil {
		return migration{}, err
	}
	return m, nil
}
