package template

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// format is the migration tool a directory was written for. SQLFiles
// detects it per directory from the files' names and markers, and applies
// each file as that tool would: only its Up part, in the tool's order,
// with the tool's transaction rules.
type format int

const (
	plainFormat format = iota // whole files, lexical order
	gooseFormat
	golangMigrateFormat
	atlasFormat
	dbmateFormat
	sqlMigrateFormat
	flywayFormat
	ternFormat
)

func (f format) String() string {
	return [...]string{"plain SQL", "goose", "golang-migrate", "Atlas", "dbmate", "sql-migrate", "Flyway", "tern"}[f]
}

// execMode is how a migration's chunks reach the server.
type execMode int

const (
	// inTransaction: BEGIN, every chunk, COMMIT.
	inTransaction execMode = iota
	// oneQuery: the single chunk as one query string and no BEGIN, as
	// golang-migrate and dbmate's transaction:false send a file: several
	// statements then share an implicit transaction, and a lone CREATE
	// INDEX CONCURRENTLY runs.
	oneQuery
	// eachStatement: every chunk on its own, outside a transaction.
	eachStatement
)

// migration is one file's Up part, ready to apply.
type migration struct {
	name   string // as shown in errors: with the directory when known
	src    string // the whole file, for error positions
	mode   execMode
	chunks []statement // what is sent, with offsets into src
}

var (
	golangMigrateName = regexp.MustCompile(`^(\d+)_(.*)\.(up|down)\.sql$`)
	flywayName        = regexp.MustCompile(`^([VUB])(\d+(?:[._]\d+)*)__(.+)\.sql$`)
	flywayRepeatable  = regexp.MustCompile(`^R__(.+)\.sql$`)
	flywayNearMiss    = regexp.MustCompile(`^[VUR]\d*[._\d]*_[^_].*\.sql$`)
	dbmateMarker      = regexp.MustCompile(`(?m)^--\s*migrate:(up|down)(\s*$|\s+\S+)`)
	goGooseMigration  = regexp.MustCompile(`^\d+_.*\.go$`)
)

const (
	ternSeparator = "---- create above / drop below ----"
	ternDisableTx = "---- tern: disable-tx ----"
)

// sourceFile is a .sql file as read from the directory.
type sourceFile struct {
	base string // the name in the directory
	name string // the name shown in errors
	src  string
}

// markerFormats names the tools whose markers src carries.
func markerFormats(src string) []format {
	var out []format
	var goose, sqlMigrate, tern bool
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "--") && strings.Contains(t, "+goose"):
			goose = true
		case strings.HasPrefix(line, "-- +migrate "):
			sqlMigrate = true
		case strings.TrimRight(line, "\r") == ternSeparator || strings.TrimRight(line, "\r") == ternDisableTx:
			tern = true
		}
	}
	if goose {
		out = append(out, gooseFormat)
	}
	if sqlMigrate {
		out = append(out, sqlMigrateFormat)
	}
	if strings.Contains(src, "migrate:") && dbmateMarker.MatchString(src) {
		out = append(out, dbmateFormat)
	}
	if tern {
		out = append(out, ternFormat)
	}
	return out
}

// nameFormat is the tool a file's name alone tells, if any.
func nameFormat(base string) (format, bool) {
	switch {
	case golangMigrateName.MatchString(base) && strings.HasSuffix(base, ".up.sql"):
		return golangMigrateFormat, true
	case flywayName.MatchString(base) || flywayRepeatable.MatchString(base):
		return flywayFormat, true
	}
	return plainFormat, false
}

// detectFormat decides the directory's format. Every file that shows a
// tool (by its markers or its name) must show the same one: a directory
// holds one tool's migrations, and applying two tools' files in one order
// would follow neither.
func (d *SQLDir) detectFormat(files []sourceFile, hasAtlasSum bool) (format, error) {
	seen := map[format]string{} // format → the first file that shows it
	var order []format
	note := func(f format, file string) {
		if _, ok := seen[f]; !ok {
			seen[f] = file
			order = append(order, f)
		}
	}
	for _, f := range files {
		fs := markerFormats(f.src)
		if len(fs) > 1 {
			return 0, fmt.Errorf("migration %s carries both %s and %s markers; a file is written for one tool: remove the other's", f.name, fs[0], fs[1])
		}
		if len(fs) == 1 {
			note(fs[0], f.name)
		}
		if nf, ok := nameFormat(f.base); ok {
			note(nf, f.name)
		}
	}
	if len(order) > 1 {
		sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
		var parts []string
		for _, f := range order {
			parts = append(parts, fmt.Sprintf("%s (%s)", f, seen[f]))
		}
		return 0, fmt.Errorf("%s mixes the files of %s; keep one tool's migrations per directory, or give each tool's directory its own SQLDir", d.where(), strings.Join(parts, " and "))
	}
	switch {
	case len(order) == 1:
		return order[0], nil
	case hasAtlasSum:
		return atlasFormat, nil
	}
	return plainFormat, nil
}

// checkMarkers finds the comment lines that look like a tool's marker but
// that the tool would not read as one: the tool would then treat them as
// plain comments and run what they were meant to guard, or skip it.
func checkMarkers(f sourceFile) error {
	for i, line := range strings.Split(f.src, "\n") {
		line = strings.TrimRight(line, "\r")
		if msg := markerProblem(line); msg != "" {
			return fmt.Errorf("migration %s:%d: %s", f.name, i+1, msg)
		}
	}
	return nil
}

var (
	plusWord  = regexp.MustCompile(`^\s*--\s*\+(\S+)`)
	colonWord = regexp.MustCompile(`^\s*--\s*([A-Za-z]+):(\S*)`)
)

func markerProblem(line string) string {
	trimmed := strings.TrimSpace(line)
	if !strings.HasPrefix(trimmed, "--") {
		return "" // every marker is a comment
	}
	if m := plusWord.FindStringSubmatch(line); m != nil {
		word := m[1]
		switch {
		case word == "goose":
			if line != trimmed {
				return fmt.Sprintf("%q: goose reads an annotation only at the start of a line; remove the leading whitespace", trimmed)
			}
		case word == "migrate":
			if !strings.HasPrefix(line, "-- +migrate ") {
				return fmt.Sprintf("%q: sql-migrate reads only lines that start with exactly \"-- +migrate \"; write it like \"-- +migrate Up\"", trimmed)
			}
			if c := strings.Fields(line[len("-- +migrate "):]); len(c) == 0 || !oneOf(c[0], "Up", "Down", "StatementBegin", "StatementEnd") {
				return fmt.Sprintf("%q: sql-migrate knows Up, Down, StatementBegin and StatementEnd, spelt exactly so (it is case-sensitive)", trimmed)
			}
		case near(word, "goose"):
			return fmt.Sprintf("%q looks like a misspelt goose annotation; goose ignores it, so write \"-- +goose %s\"", trimmed, strings.TrimSpace(strings.TrimPrefix(trimmed[strings.Index(trimmed, "+"):], "+"+word)))
		case near(word, "migrate"):
			return fmt.Sprintf("%q looks like a misspelt sql-migrate annotation; sql-migrate ignores it, so write it like \"-- +migrate Up\"", trimmed)
		}
	}
	if m := colonWord.FindStringSubmatch(line); m != nil {
		tool, cmd := m[1], m[2]
		switch {
		case tool == "migrate" && !oneOf(cmd, "up", "down"):
			return fmt.Sprintf("%q: dbmate knows only \"-- migrate:up\" and \"-- migrate:down\"", trimmed)
		case tool != "migrate" && near(strings.ToLower(tool), "migrate"):
			return fmt.Sprintf("%q looks like a misspelt dbmate marker; dbmate ignores it, so write \"-- migrate:up\" or \"-- migrate:down\"", trimmed)
		case tool == "atlas" && !oneOf(cmd, "txmode", "delimiter", "sum", "checkpoint", "nolint", "txtar", "import"):
			return fmt.Sprintf("%q: Atlas has no directive %q", trimmed, cmd)
		case tool != "atlas" && near(strings.ToLower(tool), "atlas"):
			return fmt.Sprintf("%q looks like a misspelt Atlas directive; write it like \"-- atlas:txmode none\"", trimmed)
		}
	}
	if strings.HasPrefix(trimmed, "----") && trimmed != ternSeparator && trimmed != ternDisableTx &&
		(strings.Contains(trimmed, "create above") || strings.Contains(trimmed, "drop below") || strings.Contains(trimmed, "tern")) {
		return fmt.Sprintf("%q looks like a misspelt tern marker; tern splits only at %q and reads only %q", trimmed, ternSeparator, ternDisableTx)
	}
	return ""
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

// near is true when word is within two edits of want, ignoring case, but
// not equal to it: a typo, not another word.
func near(word, want string) bool {
	w := strings.ToLower(word)
	if w == want && word != want {
		return true // "+GOOSE": goose matches "+goose" case-sensitively
	}
	return w != want && editDistance(w, want) <= 2 && len(w) >= len(want)-2
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
