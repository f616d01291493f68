package template

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// load reads the directory, detects its format and returns its migrations
// in the order the tool applies them. Everything a tool would refuse is
// refused here, before any server is involved: Fingerprint calls load
// before the cluster starts.
func (d *SQLDir) load() ([]migration, format, error) {
	if d.fsys == nil {
		return nil, 0, fmt.Errorf("%w: SQLFiles was given a nil fs.FS; pass os.DirFS(\"path/to/migrations\") or an embed.FS", ErrMigrationsNotFound)
	}
	entries, err := fs.ReadDir(d.fsys, ".")
	if errors.Is(err, fs.ErrNotExist) {
		wd, _ := os.Getwd()
		return nil, 0, fmt.Errorf("%w: %s does not exist (working directory %s); tests run in their package's directory, so check the path relative to it", ErrMigrationsNotFound, d.where(), wd)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", d.where(), err)
	}
	var files []sourceFile
	var skipped, goMigrations []string
	hasAtlasSum := false
	for _, e := range entries {
		name := e.Name()
		switch {
		case !e.Type().IsRegular() || strings.HasPrefix(name, "."):
			skipped = append(skipped, name)
			continue
		case name == "atlas.sum":
			hasAtlasSum = true
		case goGooseMigration.MatchString(name) && !strings.HasSuffix(name, "_test.go"):
			goMigrations = append(goMigrations, d.display(name))
		}
		if !strings.HasSuffix(name, ".sql") {
			skipped = append(skipped, name)
			continue
		}
		raw, err := fs.ReadFile(d.fsys, name)
		if err != nil {
			return nil, 0, fmt.Errorf("reading migration %s: %w", d.display(name), err)
		}
		files = append(files, sourceFile{base: name, name: d.display(name), src: strings.TrimPrefix(string(raw), "\uFEFF")})
	}
	if len(files) == 0 {
		msg := "it holds no .sql files"
		if len(skipped) > 0 {
			msg = fmt.Sprintf("it holds no .sql files (skipped: %s)", strings.Join(skipped, ", "))
		}
		return nil, 0, fmt.Errorf("%w: %s: %s; add migrations named like 001_init.sql", ErrMigrationsNotFound, d.where(), msg)
	}
	for _, f := range files {
		if err := checkMarkers(f); err != nil {
			return nil, 0, fmt.Errorf("%w: %w", ErrInvalidMigrations, err)
		}
	}
	f, err := d.detectFormat(files, hasAtlasSum)
	if err == nil && len(goMigrations) > 0 && (f == gooseFormat || f == plainFormat) {
		err = fmt.Errorf("%s is a goose Go migration, and SQLDir applies SQL files only, so the schema would lack it; "+
			"use the goose adapter, which runs goose itself: pgginkgo.DefineTemplate(\"default\", goosemigrator.New(fsys, goosemigrator.GoMigrations(…))) "+
			"from github.com/pgginkgo/pgginkgo/migrators/goose", goMigrations[0])
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrInvalidMigrations, err)
	}
	ms, err := d.parseFormat(f, files)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrInvalidMigrations, err)
	}
	if len(ms) == 0 {
		return nil, 0, fmt.Errorf("%w: %s holds %s files but no Up migration among them (%d .sql file(s) skipped by %s's naming rules)", ErrMigrationsNotFound, d.where(), f, len(files), f)
	}
	return ms, f, nil
}

// parseFormat orders and parses the files as the format's tool does.
func (d *SQLDir) parseFormat(f format, files []sourceFile) ([]migration, error) {
	switch f {
	case golangMigrateFormat:
		return golangMigrate(files)
	case atlasFormat:
		return atlas(files)
	case flywayFormat:
		return flyway(d, files)
	case ternFormat:
		return tern(files)
	case gooseFormat:
		return parseEach(gooseOrder, parseGoose, files)
	case sqlMigrateFormat:
		return parseEach(sqlMigrateOrder, parseSQLMigrate, files)
	case dbmateFormat:
		return parseEach(dbmateOrder, parseDbmate, files)
	}
	var out []migration
	for _, f := range files {
		if strings.HasSuffix(f.base, ".down.sql") {
			continue
		}
		out = append(out, wholeFile(f, f.src, 0, hasNoTransactionMarker(f.src)))
	}
	return out, nil
}

func parseEach(order func([]sourceFile) ([]sourceFile, error), parse func(sourceFile) (migration, error), files []sourceFile) ([]migration, error) {
	files, err := order(files)
	if err != nil {
		return nil, err
	}
	out := make([]migration, 0, len(files))
	for _, f := range files {
		m, err := parse(f)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

var leadingDigits = regexp.MustCompile(`^(\d+)`)

// gooseOrder: by the number before the first '_', at least 1; goose skips
// the files without one.
func gooseOrder(files []sourceFile) ([]sourceFile, error) {
	var vs []versioned
	for _, f := range files {
		before, _, ok := strings.Cut(f.base, "_")
		n, err := strconv.ParseInt(before, 10, 64)
		if !ok || err != nil {
			continue
		}
		if n < 1 {
			return nil, fmt.Errorf("migration %s: goose versions start at 1", f.name)
		}
		vs = append(vs, versioned{file: f, version: []uint64{uint64(n)}, label: before})
	}
	return sortedFiles(gooseFormat, vs)
}

// dbmateOrder: by file name, as dbmate sorts, over the files that start
// with a version; two files with one version are refused.
func dbmateOrder(files []sourceFile) ([]sourceFile, error) {
	seen := map[string]string{}
	var out []sourceFile
	for _, f := range files {
		v := leadingDigits.FindString(f.base)
		if v == "" {
			continue
		}
		if other, ok := seen[v]; ok {
			return nil, fmt.Errorf("%s and %s have the same dbmate version %s; give each migration its own version", other, f.name, v)
		}
		seen[v] = f.name
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].base < out[j].base })
	return out, nil
}

// sqlMigrateOrder: numeric prefixes numerically and before the others,
// ties and the rest by name, as sql-migrate sorts.
func sqlMigrateOrder(files []sourceFile) ([]sourceFile, error) {
	out := append([]sourceFile(nil), files...)
	num := func(f sourceFile) (int64, bool) {
		v := leadingDigits.FindString(f.base)
		n, err := strconv.ParseInt(v, 10, 64)
		return n, v != "" && err == nil
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, aok := num(out[i])
		b, bok := num(out[j])
		switch {
		case aok && bok && a != b:
			return a < b
		case aok != bok:
			return aok
		}
		return out[i].base < out[j].base
	})
	return out, nil
}

func sortedFiles(f format, vs []versioned) ([]sourceFile, error) {
	if err := sortVersions(f, vs); err != nil {
		return nil, err
	}
	out := make([]sourceFile, len(vs))
	for i, v := range vs {
		out[i] = v.file
	}
	return out, nil
}
