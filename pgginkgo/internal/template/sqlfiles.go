package template

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// NoTransactionMarker, in a comment before a file's first statement, makes
// SQLFiles run that file's statements one by one outside a transaction, as
// CREATE INDEX CONCURRENTLY and ALTER TYPE … ADD VALUE (before PG 12) need.
const NoTransactionMarker = "pgginkgo:no-transaction"

// SQLDir is a directory of .sql migration files. Build one with SQLFiles.
type SQLDir struct {
	fsys  fs.FS
	label string
}

// SQLFiles applies the .sql files at the root of fsys in lexical order of
// their names, each in its own transaction unless it carries
// NoTransactionMarker. Files ending in .down.sql are skipped, so directories
// written for golang-migrate work as they are. A file may hold many
// statements and PL/pgSQL bodies; COPY … FROM stdin is not supported.
func SQLFiles(fsys fs.FS) *SQLDir {
	return &SQLDir{fsys: fsys, label: describeFS(fsys)}
}

// Named sets the path shown in error messages, for file systems that do not
// know their own (embed.FS, fstest.MapFS). os.DirFS paths are found alone.
func (d *SQLDir) Named(path string) *SQLDir {
	c := *d
	c.label = path
	return &c
}

// describeFS recovers the directory of an os.DirFS, whose underlying type is
// a string holding it, so errors can name the directory the user passed.
func describeFS(fsys fs.FS) string {
	if v := reflect.ValueOf(fsys); v.IsValid() && v.Kind() == reflect.String {
		return v.String()
	}
	return ""
}

type sqlFile struct {
	name   string // as shown in errors: with the directory when known
	src    string
	noTx   bool
	digest [sha256.Size]byte
}

func (d *SQLDir) where() string {
	if d.label == "" {
		return "the migrations file system"
	}
	return fmt.Sprintf("migrations directory %q", d.label)
}

func (d *SQLDir) load() ([]sqlFile, error) {
	if d.fsys == nil {
		return nil, fmt.Errorf("%w: SQLFiles was given a nil fs.FS; pass os.DirFS(\"path/to/migrations\") or an embed.FS", ErrMigrationsNotFound)
	}
	entries, err := fs.ReadDir(d.fsys, ".")
	if errors.Is(err, fs.ErrNotExist) {
		wd, _ := os.Getwd()
		return nil, fmt.Errorf("%w: %s does not exist (working directory %s); tests run in their package's directory, so check the path relative to it", ErrMigrationsNotFound, d.where(), wd)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", d.where(), err)
	}
	var files []sqlFile
	var skipped []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".sql") || strings.HasSuffix(name, ".down.sql") || strings.HasPrefix(name, ".") {
			skipped = append(skipped, name)
			continue
		}
		raw, err := fs.ReadFile(d.fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", d.display(name), err)
		}
		src := strings.TrimPrefix(string(raw), "\uFEFF")
		files = append(files, sqlFile{
			name:   d.display(name),
			src:    src,
			noTx:   hasNoTransactionMarker(src),
			digest: sha256.Sum256([]byte(name + "\x00" + src)),
		})
	}
	if len(files) == 0 {
		msg := "it holds no .sql files"
		if len(skipped) > 0 {
			msg = fmt.Sprintf("it holds no .sql files (skipped: %s)", strings.Join(skipped, ", "))
		}
		return nil, fmt.Errorf("%w: %s: %s; add migrations named like 001_init.sql", ErrMigrationsNotFound, d.where(), msg)
	}
	return files, nil
}

func (d *SQLDir) display(name string) string {
	if d.label == "" {
		return name
	}
	return path.Join(d.label, name)
}

// hasNoTransactionMarker looks only at the comments before the first
// statement, so the marker text inside a statement or string is inert.
func hasNoTransactionMarker(src string) bool {
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "--") {
			return false
		}
		if strings.Contains(line, NoTransactionMarker) {
			return true
		}
	}
	return false
}

// Fingerprint hashes every applied file's name and content.
func (d *SQLDir) Fingerprint(context.Context) (string, error) {
	files, err := d.load()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range files {
		h.Write(f.digest[:])
	}
	return "sql:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Migrate applies the files in order and stops at the first failure, which
// it reports as a *MigrationError pointing at the failing line and column.
func (d *SQLDir) Migrate(ctx context.Context, conn *pgx.Conn) error {
	files, err := d.load()
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.noTx {
			err = applyEach(ctx, conn.PgConn(), f)
		} else {
			err = applyInTransaction(ctx, conn.PgConn(), f)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// applyInTransaction sends the file as one query string, so the server
// parses it exactly as psql -1 would; on failure the count of completed
// statements tells which one failed when the server gives no position.
func applyInTransaction(ctx context.Context, pc *pgconn.PgConn, f sqlFile) error {
	if err := pc.Exec(ctx, "BEGIN").Close(); err != nil {
		return fmt.Errorf("migration %s: BEGIN: %w", f.name, err)
	}
	done, err := execCounting(ctx, pc, f.src)
	if err != nil {
		// The rollback result does not matter: the template is dropped.
		_ = pc.Exec(context.WithoutCancel(ctx), "ROLLBACK").Close()
		var failed *statement
		if stmts := splitStatements(f.src); done < len(stmts) {
			failed = &stmts[done]
		}
		return sqlFileError(f.name, f.src, 0, failed, err)
	}
	if err := pc.Exec(ctx, "COMMIT").Close(); err != nil {
		return sqlFileError(f.name, f.src, 0, nil, fmt.Errorf("COMMIT: %w", err))
	}
	return nil
}

func applyEach(ctx context.Context, pc *pgconn.PgConn, f sqlFile) error {
	for _, s := range splitStatements(f.src) {
		if _, err := execCounting(ctx, pc, s.Text); err != nil {
			return sqlFileError(f.name, f.src, s.Offset, &s, err)
		}
	}
	return nil
}

// execCounting runs a query string and returns how many of its statements
// completed before the first error.
func execCounting(ctx context.Context, pc *pgconn.PgConn, sql string) (int, error) {
	mrr := pc.Exec(ctx, sql)
	done := 0
	var first error
	for mrr.NextResult() {
		if _, err := mrr.ResultReader().Close(); err != nil {
			first = err
			break
		}
		done++
	}
	if err := mrr.Close(); err != nil {
		return done, err
	}
	return done, first
}
