package template

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

// flyway: V<version>__<description>.sql by dotted numeric version, then the
// repeatable R__<description>.sql files by description; undo (U) files are
// skipped. Each file runs in a transaction unless its <file>.conf says
// executeInTransaction=false or it holds a statement PostgreSQL refuses
// inside one, which is when Flyway runs it without.
func flyway(d *SQLDir, files []sourceFile) ([]migration, error) {
	var vs []versioned
	var repeatable []sourceFile
	for _, f := range files {
		if m := flywayRepeatable.FindStringSubmatch(f.base); m != nil {
			repeatable = append(repeatable, f)
			continue
		}
		m := flywayName.FindStringSubmatch(f.base)
		if m == nil {
			if flywayNearMiss.MatchString(f.base) {
				return nil, fmt.Errorf("migration %s: Flyway needs two underscores between the version and the description, as in V1__init.sql; with one it skips the file", f.name)
			}
			continue // Flyway skips names it does not know
		}
		switch m[1] {
		case "U":
			continue
		case "B":
			return nil, fmt.Errorf("migration %s: SQLDir does not apply Flyway baseline migrations (B…); keep the V files they stand for", f.name)
		}
		var parts []uint64
		for _, p := range flywayVersionSep.Split(m[2], -1) {
			v, err := parseVersion(f, p)
			if err != nil {
				return nil, err
			}
			parts = append(parts, v)
		}
		vs = append(vs, versioned{file: f, version: parts, label: strings.ReplaceAll(m[2], "_", ".")})
	}
	if err := sortVersions(flywayFormat, vs); err != nil {
		return nil, err
	}
	sort.SliceStable(repeatable, func(i, j int) bool { return repeatable[i].base < repeatable[j].base })
	ordered := make([]sourceFile, 0, len(vs)+len(repeatable))
	for _, v := range vs {
		ordered = append(ordered, v.file)
	}
	ordered = append(ordered, repeatable...)
	var out []migration
	for _, f := range ordered {
		if i := strings.Index(f.src, "${"); i >= 0 {
			line, _ := lineColumn(f.src, i)
			return nil, fmt.Errorf("migration %s:%d: a Flyway placeholder ${…}; SQLDir does not replace placeholders: write the value, or run Flyway's output through a pgginkgo.MigrateFunc", f.name, line)
		}
		noTx, err := flywayConf(d, f)
		if err != nil {
			return nil, err
		}
		if !noTx {
			for _, s := range splitStatements(f.src) {
				if nonTransactional.MatchString(s.Text) {
					noTx = true
					break
				}
			}
		}
		out = append(out, wholeFile(f, f.src, 0, noTx))
	}
	return out, nil
}

// nonTransactional matches the statements PostgreSQL refuses in a
// transaction block, for which Flyway runs the migration without one.
var nonTransactional = regexp.MustCompile(`(?is)^\s*(?:(?:CREATE|DROP)\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY|REINDEX\b.*\bCONCURRENTLY|VACUUM|ALTER\s+SYSTEM|(?:CREATE|DROP)\s+(?:DATABASE|TABLESPACE)|CREATE\s+SUBSCRIPTION|DISCARD\s+ALL)\b`)

// flywayConf reads the script configuration file beside a migration, if
// any, for executeInTransaction.
func flywayConf(d *SQLDir, f sourceFile) (noTx bool, err error) {
	raw, err := fs.ReadFile(d.fsys, f.base+".conf")
	if err != nil {
		return false, nil // no .conf file: Flyway's defaults
	}
	for _, l := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok || strings.TrimSpace(k) != "executeInTransaction" {
			continue
		}
		switch strings.TrimSpace(v) {
		case "false":
			return true, nil
		case "true":
			return false, nil
		default:
			return false, fmt.Errorf("migration %s.conf: executeInTransaction is true or false, not %q", f.name, strings.TrimSpace(v))
		}
	}
	return false, nil
}

var (
	ternName          = regexp.MustCompile(`^(\d+)_.+\.sql$`)
	ternDisableTxLine = regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(ternDisableTx) + `$`)
	flywayVersionSep  = regexp.MustCompile(`[._]`)
)

// tern: N_name.sql numbered 1, 2, 3… without gaps, the part above
// "---- create above / drop below ----" sent as one query in a
// transaction, or statement by statement under "---- tern: disable-tx ----".
func tern(files []sourceFile) ([]migration, error) {
	vs, err := numbered(ternFormat, files, ternName, nil) // tern skips other names
	if err != nil {
		return nil, err
	}
	var out []migration
	for i, v := range vs {
		f := v.file
		if v.version[0] != uint64(i+1) {
			return nil, fmt.Errorf("migration %d is missing before %s; tern numbers its migrations 1, 2, 3… without gaps", i+1, f.name)
		}
		if j := strings.Index(f.src, "{{"); j >= 0 {
			line, _ := lineColumn(f.src, j)
			return nil, fmt.Errorf("migration %s:%d: a tern template {{ … }}; SQLDir does not run templates: use the tern adapter, pgginkgo.DefineTemplate(\"default\", ternmigrator.New(fsys)) from github.com/pgginkgo/pgginkgo/migrators/tern", f.name, line)
		}
		upPart, _, _ := strings.Cut(f.src, ternSeparator)
		body := strings.TrimSpace(upPart)
		if len(splitStatements(body)) == 0 {
			return nil, fmt.Errorf("migration %s has no SQL above %q; tern refuses an empty forward migration", f.name, ternSeparator)
		}
		offset := strings.Index(f.src, body)
		out = append(out, wholeFile(f, body, offset, ternDisableTxLine.MatchString(body)))
	}
	return out, nil
}
