// Package workload is what the package benchmarks run on both sides: a
// generated application-like schema (one .sql file per migration), the spec
// body every measured spec runs, and a pgtestdb Migrator that applies the
// same files.
package workload

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SeedRows is how many rows the seed migrations put in t001; Run checks it.
const SeedRows = 50

// seedFiles is how many migrations the seed is split into (fewer when the
// schema is too small to hold that many files).
const seedFiles = 3

// Shape describes a generated schema.
type Shape struct {
	Tables int // tables t001..tNNN, each with a primary key, foreign keys and indexes
	Files  int // migration files; at least 2*Tables+1 (create, index, seed)
}

// Large is the schema of the package benchmarks: 250 migrations, 90 tables.
var Large = Shape{Tables: 90, Files: 250}

// Small is the 10-migration variant of the fixed-cost line.
var Small = Shape{Tables: 4, Files: 10}

// Write generates the schema as s.Files migration files in dir, named
// 0001_create_t001.sql and so on, so that lexical order is apply order:
// for each table a create (primary key, foreign keys to its parent and to
// an earlier table, a unique column) and an index migration, the seed of
// t001 right after t001 exists, and then column/constraint/index changes
// spread over all tables, like an application's history.
func Write(dir string, s Shape) error {
	seeds := min(seedFiles, s.Files-2*s.Tables)
	if s.Tables < 3 || seeds < 1 {
		return fmt.Errorf("workload: shape %+v: need at least 3 tables and %d files", s, 2*s.Tables+1)
	}
	type migration struct{ name, sql string }
	var ms []migration
	add := func(name, sql string) { ms = append(ms, migration{name, sql}) }
	for k := 1; k <= s.Tables; k++ {
		add(fmt.Sprintf("create_t%03d", k), createTable(k))
		add(fmt.Sprintf("index_t%03d", k), indexTable(k))
		if k == 1 {
			for j := range seeds {
				lo, hi := j*SeedRows/seeds+1, (j+1)*SeedRows/seeds
				add(fmt.Sprintf("seed_t001_part%d", j+1), fmt.Sprintf(
					"INSERT INTO t001 (name, code, amount) SELECT 'account ' || g, 'acc-' || g, g * 10 FROM generate_series(%d, %d) g;\n", lo, hi))
			}
		}
	}
	for j := 0; len(ms) < s.Files; j++ {
		add(fmt.Sprintf("alter_t%03d_%d", j%s.Tables+1, j), alterTable(j%s.Tables+1, j))
	}
	for i, m := range ms {
		path := filepath.Join(dir, fmt.Sprintf("%04d_%s.sql", i+1, m.name))
		if err := os.WriteFile(path, []byte(m.sql), 0o644); err != nil {
			return fmt.Errorf("workload: %w", err)
		}
	}
	return nil
}

func createTable(k int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE t%03d (\n\tid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n", k)
	if k > 1 {
		fmt.Fprintf(&b, "\tparent_id bigint NOT NULL REFERENCES t%03d (id) ON DELETE CASCADE,\n", k-1)
	}
	if k > 3 {
		fmt.Fprintf(&b, "\tref_id bigint REFERENCES t%03d (id) ON DELETE SET NULL,\n", (k+2)/3)
	}
	b.WriteString("\tname text NOT NULL,\n\tcode text UNIQUE,\n\tstatus text NOT NULL DEFAULT 'new',\n")
	b.WriteString("\tamount numeric(12,2) NOT NULL DEFAULT 0,\n\tcreated_at timestamptz NOT NULL DEFAULT now()\n);\n")
	fmt.Fprintf(&b, "COMMENT ON TABLE t%03d IS 'generated table %d';\n", k, k)
	return b.String()
}

func indexTable(k int) string {
	var b strings.Builder
	if k > 1 {
		fmt.Fprintf(&b, "CREATE INDEX t%03d_parent_idx ON t%03d (parent_id);\n", k, k)
	}
	if k > 3 {
		fmt.Fprintf(&b, "CREATE INDEX t%03d_ref_idx ON t%03d (ref_id) WHERE ref_id IS NOT NULL;\n", k, k)
	}
	fmt.Fprintf(&b, "CREATE INDEX t%03d_name_idx ON t%03d (name);\n", k, k)
	fmt.Fprintf(&b, "CREATE INDEX t%03d_status_created_idx ON t%03d (status, created_at);\n", k, k)
	return b.String()
}

// alterTable is the j-th later change, on table k: a new column with an
// index, a check constraint, or a column with a default.
func alterTable(k, j int) string {
	switch j % 3 {
	case 0:
		return fmt.Sprintf("ALTER TABLE t%03d ADD COLUMN attr_%d text;\nCREATE INDEX t%03d_attr_%d_idx ON t%03d (attr_%d);\n", k, j, k, j, k, j)
	case 1:
		return fmt.Sprintf("ALTER TABLE t%03d ADD CONSTRAINT t%03d_amount_%d_check CHECK (amount > -%d);\n", k, k, j, 1000000+j)
	default:
		return fmt.Sprintf("ALTER TABLE t%03d ADD COLUMN flag_%d boolean NOT NULL DEFAULT false;\n", k, j)
	}
}
