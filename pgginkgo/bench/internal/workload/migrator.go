package workload

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/peterldowns/pgtestdb"
)

// Migrator is a pgtestdb.Migrator that applies the .sql files at the root
// of Dir in lexical order, each in its own transaction: what
// pgginkgo.Migrations does on our side.
type Migrator struct{ Dir string }

var _ pgtestdb.Migrator = Migrator{}

// files lists the migrations in apply order (fs.ReadDir sorts by name).
func (m Migrator) files() ([]string, error) {
	entries, err := fs.ReadDir(os.DirFS(m.Dir), ".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Hash covers every file's name and content, in order.
func (m Migrator) Hash() (string, error) {
	names, err := m.files()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(m.Dir, name))
		if err != nil {
			return "", err
		}
		h.Write([]byte(name + "\x00" + strconv.Itoa(len(data)) + "\x00"))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Migrate applies the files over db, the template database pgtestdb is
// building.
func (m Migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	names, err := m.files()
	if err != nil {
		return err
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(m.Dir, name))
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(data)); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}
