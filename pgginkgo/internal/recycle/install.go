package recycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Version names the tracking machinery. Templates hash it into their name,
// so changing the installed SQL makes every template rebuild.
const Version = "3"

// ErrNotInstalled means the database holds no pgginkgo change tracking: it
// was not cloned from a template prepared by Install. Replace it.
var ErrNotInstalled = errors.New("pgginkgo change tracking is not installed in this database")

// Summary is what Install found and snapshotted.
type Summary struct {
	Tables       int   // tables and partitioned tables now tracked
	SeededTables int   // tables that had rows
	SeedRows     int64 // rows snapshotted, restored by Reset
	Sequences    int
	LargeObjects int
}

// textSettings fixes every setting that changes how values print as text,
// so a row snapshotted at install reads back identically at reset whatever
// the session's defaults are.
const textSettings = `
SET LOCAL DateStyle = 'ISO, YMD';
SET LOCAL IntervalStyle = 'postgres';
SET LOCAL extra_float_digits = 3;
SET LOCAL bytea_output = 'hex';
SET LOCAL lc_monetary = 'C';
`

// qualifiedNames makes regclass and similar values print schema-qualified,
// so they read back the same under any search_path. Reset does not set it:
// a search_path change makes PostgreSQL re-plan every cached query of the
// session, which would cost Reset milliseconds each time.
const qualifiedNames = `SET LOCAL search_path = pg_catalog, pg_temp;
`

// userRelations selects relations in schemas the user owns: everything
// except the system schemas, TOAST, temporary schemas and ours.
const userRelations = `
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgginkgo')
	AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`

// Install prepares a freshly migrated template database so that its clones
// can be Reset. Run it once per template, after the migrations and before
// the database is marked as a template, on a superuser connection. It runs
// in one transaction: on error nothing is installed.
//
// It creates the pgginkgo schema with a statement-level trigger on every
// table, event triggers for DDL, and snapshots of every table's rows, every
// sequence's value and the set of large objects. It also re-sets every
// sequence to its own value: that zeroes log_cnt, which setval does too, so
// a reset sequence is indistinguishable from the template's.
func Install(ctx context.Context, conn *pgx.Conn) (Summary, error) {
	var (
		major    int
		super    bool
		present  bool
		database string
	)
	err := conn.QueryRow(ctx, `SELECT pg_catalog.current_setting('server_version_num')::int,
		(SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user),
		pg_catalog.to_regnamespace('pgginkgo') IS NOT NULL, pg_catalog.current_database()`).
		Scan(&major, &super, &present, &database)
	switch {
	case err != nil:
		return Summary{}, fmt.Errorf("installing change tracking: %w", err)
	case major < 130000:
		return Summary{}, fmt.Errorf("installing change tracking in %q: PostgreSQL %d is too old; use 13 or newer", database, major/10000)
	case !super:
		return Summary{}, fmt.Errorf("installing change tracking in %q: the connection's role is not a superuser, which event triggers require; connect as the cluster's superuser", database)
	case present:
		return Summary{}, fmt.Errorf("installing change tracking in %q: schema pgginkgo already exists; build the template from a database without it (do the migrations create it?)", database)
	}
	var sum Summary
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, step := range []func(context.Context, pgx.Tx, *Summary) error{
			createMachinery, trackTables, snapshotSequences, snapshotLargeObjects, createChecks, seal,
		} {
			if err := step(ctx, tx, &sum); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Summary{}, fmt.Errorf("installing change tracking in %q: %w", database, err)
	}
	return sum, nil
}

func createMachinery(ctx context.Context, tx pgx.Tx, _ *Summary) error {
	_, err := tx.Exec(ctx, textSettings+qualifiedNames+schemaSQL+functionsSQL)
	return err
}

type table struct {
	oid  uint32
	kind string
	name string
}

// trackTables puts the trigger on every table and snapshots its rows.
func trackTables(ctx context.Context, tx pgx.Tx, sum *Summary) error {
	rows, err := tx.Query(ctx, `INSERT INTO pgginkgo.tables (relid, kind, name, plain)
		SELECT c.oid, c.relkind, pg_catalog.format('%I.%I', n.nspname, c.relname),
			-- Triggers and rules that fire in replica mode would fire
			-- during the reset, so tables with them are never reset in place.
			NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
				WHERE g.tgrelid = c.oid AND NOT g.tgisinternal AND g.tgenabled IN ('A', 'R'))
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite w
				WHERE w.ev_class = c.oid AND w.rulename <> '_RETURN' AND w.ev_enabled IN ('A', 'R'))
		`+userRelations+` AND c.relkind IN ('r', 'p')
		ORDER BY c.oid
		RETURNING relid, kind::text, name`)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var t table
		return t, r.Scan(&t.oid, &t.kind, &t.name)
	})
	if err != nil {
		return err
	}
	var triggers strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&triggers, `CREATE TRIGGER pgginkgo_track BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %[1]s
			FOR EACH STATEMENT EXECUTE FUNCTION pgginkgo.track();
			ALTER TABLE ONLY %[1]s ENABLE ALWAYS TRIGGER pgginkgo_track;
			`, t.name)
		if t.kind != "r" {
			continue // a partitioned table's rows live in its partitions
		}
		n, err := snapshotRows(ctx, tx, t)
		if err != nil {
			return fmt.Errorf("snapshotting the rows of %s: %w", t.name, err)
		}
		if n > 0 {
			sum.SeededTables++
			sum.SeedRows += n
		}
	}
	sum.Tables = len(tables)
	if len(tables) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, triggers.String())
	return err
}

// snapshotRows stores each row as its composite text form. Text, not a
// copy table of the same types, because a copy table would depend on the
// user's types and make DROP TYPE fail in specs where it succeeds in
// production.
func snapshotRows(ctx context.Context, tx pgx.Tx, t table) (int64, error) {
	tag, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO pgginkgo.seed_rows (relid, ord, data)
		SELECT %d, pg_catalog.row_number() OVER (ORDER BY x.ctid), (x.*)::text FROM ONLY %s x`, t.oid, t.name))
	if err != nil || tag.RowsAffected() == 0 {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT pg_catalog.quote_ident(a.attname) FROM pg_catalog.pg_attribute a
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		ORDER BY a.attnum`, t.oid)
	if err != nil {
		return 0, err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `UPDATE pgginkgo.tables SET seed_rows = $2, reseed = $3 WHERE relid = $1`,
		t.oid, tag.RowsAffected(), reseedSQL(t, cols))
	return tag.RowsAffected(), err
}

// reseedSQL restores a table's snapshot. Generated columns are recomputed,
// identity values are kept (OVERRIDING SYSTEM VALUE), and the OFFSET 0
// fence makes the server parse each row's text once, not once per column.
func reseedSQL(t table, cols []string) string {
	source := fmt.Sprintf(`(SELECT s.data::%s AS r FROM pgginkgo.seed_rows s WHERE s.relid = %d ORDER BY s.ord OFFSET 0) x`, t.name, t.oid)
	if len(cols) == 0 {
		return fmt.Sprintf(`INSERT INTO %s SELECT FROM %s`, t.name, source)
	}
	fields := make([]string, len(cols))
	for i, c := range cols {
		fields[i] = "(x.r)." + c
	}
	return fmt.Sprintf(`INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s`,
		t.name, strings.Join(cols, ", "), strings.Join(fields, ", "), source)
}
