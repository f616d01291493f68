package workload

import (
	"context"
	"database/sql"
	"fmt"
)

// Run is the body of every measured spec, on both sides: it checks that
// the database is fresh (the seed is there, nothing an earlier spec wrote
// is), then does a few inserts and selects on the generated schema.
func Run(ctx context.Context, db *sql.DB, i int) error {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t003").Scan(&n); err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("t003 has %d rows before the spec wrote any: the database is not fresh", n)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t001").Scan(&n); err != nil {
		return err
	}
	if n != SeedRows {
		return fmt.Errorf("t001 has %d rows, want the %d seed rows", n, SeedRows)
	}
	var parent, id int64
	if err := db.QueryRowContext(ctx, "SELECT id FROM t001 ORDER BY id OFFSET $1 LIMIT 1", i%SeedRows).Scan(&parent); err != nil {
		return err
	}
	label := fmt.Sprintf("spec %d", i)
	if err := db.QueryRowContext(ctx, "INSERT INTO t002 (parent_id, name, amount) VALUES ($1, $2, 12.5) RETURNING id", parent, label).Scan(&id); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO t003 (parent_id, name) VALUES ($1, 'a'), ($1, 'b')", id); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t003 JOIN t002 ON t002.id = t003.parent_id WHERE t002.name = $1", label).Scan(&n); err != nil {
		return err
	}
	if n != 2 {
		return fmt.Errorf("expected 2 joined rows, got %d", n)
	}
	return nil
}
