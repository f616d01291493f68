package template

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The tools whose files hold the Up part alone (golang-migrate, Atlas,
// Flyway) or above a separator (tern), and whose order comes from the
// version in the file's name.

// versioned is a migration with the version its tool orders it by.
type versioned struct {
	file    sourceFile
	version []uint64 // Flyway's dotted versions have several parts
	label   string   // the version as written, for errors
}

// sortVersions orders files by version and refuses two with one version,
// which every tool here refuses or resolves arbitrarily.
func sortVersions(tool format, files []versioned) error {
	sort.SliceStable(files, func(i, j int) bool { return compareVersions(files[i].version, files[j].version) < 0 })
	for i := 1; i < len(files); i++ {
		if compareVersions(files[i-1].version, files[i].version) == 0 {
			return fmt.Errorf("%s and %s have the same %s version %s; give each migration its own version",
				files[i-1].file.name, files[i].file.name, tool, files[i].label)
		}
	}
	return nil
}

// compareVersions compares part by part; missing parts count as 0, so
// Flyway's 1.0 and 1 are one version, as Flyway has it.
func compareVersions(a, b []uint64) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y uint64
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func parseVersion(f sourceFile, digits string) (uint64, error) {
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("migration %s: version %q is not a number that fits 64 bits", f.name, digits)
	}
	return v, nil
}

// wholeFile is a migration sent as one query string, in a transaction
// unless noTx, then statement by statement.
func wholeFile(f sourceFile, body string, offset int, noTx bool) migration {
	m := migration{name: f.name, src: f.src, chunks: []statement{{Text: body, Offset: offset}}}
	if noTx {
		m.mode = eachStatement
		m.chunks = nil
		for _, s := range splitStatements(body) {
			m.chunks = append(m.chunks, statement{Text: s.Text, Offset: offset + s.Offset})
		}
	}
	return m
}

// golangMigrate: N_title.up.sql files by numeric N, each sent as one query
// (golang-migrate's Exec of the whole file).
func golangMigrate(files []sourceFile) ([]migration, error) {
	// golang-migrate skips what it cannot parse, and the Down files.
	vs, err := numbered(golangMigrateFormat, files, golangMigrateName, func(m []string) bool { return m[3] == "up" })
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, v := range vs {
		m := wholeFile(v.file, v.file.src, 0, false)
		m.mode = oneQuery
		out = append(out, m)
	}
	return out, nil
}

// numbered keeps the files whose name matches re (and that keep accepts,
// when given), versioned by the number in re's first group, in version
// order; two files with one version are refused.
func numbered(tool format, files []sourceFile, re *regexp.Regexp, keep func(match []string) bool) ([]versioned, error) {
	var vs []versioned
	for _, f := range files {
		m := re.FindStringSubmatch(f.base)
		if m == nil || (keep != nil && !keep(m)) {
			continue
		}
		v, err := parseVersion(f, m[1])
		if err != nil {
			return nil, err
		}
		vs = append(vs, versioned{file: f, version: []uint64{v}, label: m[1]})
	}
	if err := sortVersions(tool, vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// atlas: every .sql file in name order (Atlas versions are timestamps), in
// a transaction each unless its header says "-- atlas:txmode none".
func atlas(files []sourceFile) ([]migration, error) {
	seen := map[string]string{}
	var out []migration
	for _, f := range files {
		label := strings.SplitN(strings.TrimSuffix(f.base, ".sql"), "_", 2)[0]
		if other, ok := seen[label]; ok {
			return nil, fmt.Errorf("%s and %s have the same Atlas version %s; give each migration its own version", other, f.name, label)
		}
		seen[label] = f.name
		header := atlasHeader(f.src)
		txmode := directiveArg(header, "txmode")
		if txmode != "" && !oneOf(txmode, "none", "file", "all") {
			return nil, fmt.Errorf("migration %s: Atlas knows txmode none, file and all, not %q", f.name, txmode)
		}
		if d := directiveArg(header, "delimiter"); d != "" {
			return nil, fmt.Errorf("migration %s: SQLDir does not apply files with \"-- atlas:delimiter\"; use statements ended by ';', or run Atlas itself from a pgginkgo.MigrateFunc", f.name)
		}
		out = append(out, wholeFile(f, f.src, 0, txmode == "none"))
	}
	return out, nil
}

// atlasHeader is what Atlas treats as file directives: the comment lines
// at the very top, when an empty line separates them from the statements.
func atlasHeader(src string) []string {
	var comments []string
	rest := src
	for strings.HasPrefix(rest, "--") || strings.HasPrefix(rest, "#") {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			return append(comments, rest)
		}
		comments = append(comments, strings.TrimSpace(rest[:i]))
		rest = rest[i+1:]
	}
	if rest != "" && !strings.HasPrefix(strings.TrimLeft(rest, " \t"), "\n") {
		return nil
	}
	return comments
}

var atlasDirective = regexp.MustCompile(`^-- atlas:(\w+)(?: +(.*))?$`)

func directiveArg(header []string, name string) string {
	for _, c := range header {
		if m := atlasDirective.FindStringSubmatch(c); m != nil && m[1] == name {
			return strings.TrimSpace(m[2])
		}
	}
	return ""
}
