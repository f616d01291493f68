package template

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"strings"
	"sync"

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
	read  *readOnce
}

// readOnce keeps what Fingerprint read, for Migrate: the template is named
// by that fingerprint, so it must hold exactly those migrations, and the
// directory is read and parsed once per run instead of twice.
type readOnce struct {
	mu     sync.Mutex
	done   bool
	ms     []migration
	format format
	err    error
}

// migrations loads the directory on the first call and returns the same
// result on every later one.
func (d *SQLDir) migrations() ([]migration, format, error) {
	r := d.read
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.done {
		r.ms, r.format, r.err = d.load()
		r.done = true
	}
	return r.ms, r.format, r.err
}

// SQLFiles applies the .sql files at the root of fsys. It detects the tool
// the directory was written for, from the files' markers and names, and
// applies only each file's Up part, in the tool's order, with the tool's
// transaction rules (see the pgginkgo.SQLDir documentation for the table).
// A directory of plain SQL files runs each file whole, in lexical order, in
// its own transaction unless it carries NoTransactionMarker; .down.sql
// files are skipped. COPY … FROM stdin is not supported.
func SQLFiles(fsys fs.FS) *SQLDir {
	return &SQLDir{fsys: fsys, label: describeFS(fsys), read: &readOnce{}}
}

// describeFS recovers the directory of an os.DirFS, whose underlying type is
// a string holding it, so errors can name the directory the user passed.
func describeFS(fsys fs.FS) string {
	if v := reflect.ValueOf(fsys); v.IsValid() && v.Kind() == reflect.String {
		return v.String()
	}
	return ""
}

func (d *SQLDir) where() string {
	if d.label == "" {
		return "the migrations file system"
	}
	return fmt.Sprintf("migrations directory %q", d.label)
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

// Fingerprint hashes what Migrate sends, in order: the format, each file's
// name, how it runs and its statements, after any ENVSUB substitution. A
// Down part or a comment that the tool drops does not count.
func (d *SQLDir) Fingerprint(context.Context) (string, error) {
	ms, f, err := d.migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", f)
	for _, m := range ms {
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", path.Base(m.name), m.mode, len(m.chunks))
		for _, c := range m.chunks {
			fmt.Fprintf(h, "%d\x00%s\x00", len(c.Text), c.Text)
		}
	}
	return "sql:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Migrate applies the migrations in order and stops at the first failure,
// which it reports as a *MigrationError pointing at the failing line and
// column of the file.
func (d *SQLDir) Migrate(ctx context.Context, conn *pgx.Conn) error {
	ms, _, err := d.migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := apply(ctx, conn.PgConn(), m); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, pc *pgconn.PgConn, m migration) error {
	switch m.mode {
	case inTransaction:
		if err := pc.Exec(ctx, "BEGIN").Close(); err != nil {
			return fmt.Errorf("migration %s: BEGIN: %w", m.name, err)
		}
		for _, c := range m.chunks {
			if err := execChunk(ctx, pc, m, c); err != nil {
				// The rollback result does not matter: the template is dropped.
				_ = pc.Exec(context.WithoutCancel(ctx), "ROLLBACK").Close()
				return err
			}
		}
		if err := pc.Exec(ctx, "COMMIT").Close(); err != nil {
			return sqlFileError(m.name, m.src, 0, nil, fmt.Errorf("COMMIT: %w", err))
		}
		return nil
	default: // oneQuery and eachStatement: every chunk on its own
		for _, c := range m.chunks {
			if err := execChunk(ctx, pc, m, c); err != nil {
				return err
			}
		}
		return nil
	}
}

// execChunk sends one chunk as one query string, so the server parses it
// exactly as psql would; when it holds several statements, the count of
// completed ones tells which failed when the server gives no position.
func execChunk(ctx context.Context, pc *pgconn.PgConn, m migration, c statement) error {
	done, err := execCounting(ctx, pc, c.Text)
	if err == nil {
		return nil
	}
	var failed *statement
	if stmts := splitStatements(c.Text); done < len(stmts) {
		s := stmts[done]
		failed = &statement{Text: s.Text, Offset: c.Offset + s.Offset}
	}
	return sqlFileError(m.name, m.src, c.Offset, failed, err)
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
