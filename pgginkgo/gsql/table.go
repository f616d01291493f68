package gsql

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A failure message shows at most this many rows and cells at most this wide:
// enough to see what is there, short enough to read in a test report.
const (
	maxShownRows  = 10
	maxCellLength = 40
)

// table is what a check saw of some rows: the first maxShownRows of them and
// how many there were in all, under a caption that says what they are.
type table struct {
	caption string
	cols    []string
	rows    [][]any
	total   int
}

// add records one row; rows past maxShownRows are only counted.
func (t *table) add(cols []string, row []any) {
	t.cols = cols
	t.total++
	if len(t.rows) < maxShownRows {
		t.rows = append(t.rows, row)
	}
}

// render lays the rows out the way psql does, each line indented.
func (t *table) render(indent string) string {
	if t.total == 0 {
		return indent + "(no rows)\n"
	}
	cells := make([][]string, len(t.rows))
	widths := make([]int, len(t.cols))
	for i, c := range t.cols {
		widths[i] = utf8.RuneCountInString(c)
	}
	for r, row := range t.rows {
		cells[r] = make([]string, len(row))
		for i, v := range row {
			cells[r][i] = cell(v)
			widths[i] = max(widths[i], utf8.RuneCountInString(cells[r][i]))
		}
	}
	var b strings.Builder
	line := func(values []string, rightAlign func(int) bool) {
		b.WriteString(indent)
		for i, v := range values {
			if i > 0 {
				b.WriteString(" | ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v))
			if rightAlign(i) {
				b.WriteString(pad + v)
			} else if i < len(values)-1 {
				b.WriteString(v + pad)
			} else {
				b.WriteString(v) // no trailing blanks
			}
		}
		b.WriteString("\n")
	}
	line(t.cols, func(int) bool { return false })
	seps := make([]string, len(t.cols))
	for i := range seps {
		seps[i] = strings.Repeat("-", widths[i])
	}
	b.WriteString(indent + strings.Join(seps, "-+-") + "\n")
	for r, row := range t.rows {
		line(cells[r], func(i int) bool { return isNumber(row[i]) })
	}
	if hidden := t.total - len(t.rows); hidden > 0 {
		fmt.Fprintf(&b, "%s… %d more %s not shown\n", indent, hidden, plural(hidden, "row", "rows"))
	}
	return b.String()
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64:
		return true
	}
	return false
}

// cell writes one value on one line, NULL as psql's \pset null would.
func cell(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		s = x
	case time.Time:
		s = x.Format(time.RFC3339Nano)
	case []byte:
		s = `\x` + hex.EncodeToString(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case []any, map[string]any:
		if j, err := json.Marshal(x); err == nil {
			s = string(j)
		} else {
			s = fmt.Sprint(x)
		}
	default:
		s = fmt.Sprint(x)
	}
	s = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
	if utf8.RuneCountInString(s) > maxCellLength {
		s = string([]rune(s)[:maxCellLength-1]) + "…"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
