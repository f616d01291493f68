package recycle

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// snapshotSequences records every user sequence and generates
// pgginkgo.sequence_drift(), which reads them all in one query: a sequence's
// state can only be read by naming it, so the names are compiled in.
func snapshotSequences(ctx context.Context, tx pgx.Tx, sum *Summary) error {
	rows, err := tx.Query(ctx, `SELECT c.oid, pg_catalog.format('%I.%I', n.nspname, c.relname) `+
		userRelations+` AND c.relkind = 'S' ORDER BY c.oid`)
	if err != nil {
		return err
	}
	seqs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var t table
		return t, r.Scan(&t.oid, &t.name)
	})
	if err != nil {
		return err
	}
	var union []string
	for _, s := range seqs {
		var last int64
		var called bool
		if err := tx.QueryRow(ctx, `SELECT last_value, is_called FROM `+s.name).Scan(&last, &called); err != nil {
			return fmt.Errorf("reading sequence %s: %w", s.name, err)
		}
		// setval to the current value changes nothing but log_cnt, to 0,
		// which is what Reset's setval leaves too.
		if _, err := tx.Exec(ctx, `SELECT pg_catalog.setval($1::pg_catalog.oid::pg_catalog.regclass, $2, $3)`, s.oid, last, called); err != nil {
			return fmt.Errorf("re-setting sequence %s: %w", s.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pgginkgo.sequences (seq, name, last_value, is_called) VALUES ($1, $2, $3, $4)`,
			s.oid, s.name, last, called); err != nil {
			return err
		}
		union = append(union, fmt.Sprintf("SELECT %d::pg_catalog.oid AS seq, q.last_value, q.is_called FROM %s q", s.oid, s.name))
	}
	sum.Sequences = len(seqs)
	current := "SELECT NULL::pg_catalog.oid AS seq, NULL::bigint AS last_value, NULL::boolean AS is_called WHERE false"
	if len(union) > 0 {
		current = strings.Join(union, "\n\t\tUNION ALL ")
	}
	_, err = tx.Exec(ctx, `CREATE FUNCTION pgginkgo.sequence_drift() RETURNS TABLE (seq oid, last_value bigint, is_called boolean)
	LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY SELECT s.seq, s.last_value, s.is_called FROM pgginkgo.sequences s JOIN (
		`+current+`
	) c ON c.seq = s.seq
	WHERE (c.last_value, c.is_called) IS DISTINCT FROM (s.last_value, s.is_called);
END $$`)
	return err
}

func snapshotLargeObjects(ctx context.Context, tx pgx.Tx, sum *Summary) error {
	tag, err := tx.Exec(ctx, `INSERT INTO pgginkgo.large_objects (loid) SELECT m.oid FROM pg_catalog.pg_largeobject_metadata m`)
	sum.LargeObjects = int(tag.RowsAffected())
	return err
}

// skippedCatalogs are not scanned for changes. pg_class changes with
// TRUNCATE, VACUUM and ANALYZE (class_fingerprint covers its other
// columns); statistics with ANALYZE; large objects through their own
// functions (checked separately); pg_depend only together with the
// dependent object's own catalog or through ALTER EXTENSION, which the
// event trigger sees.
var skippedCatalogs = []string{"pg_class", "pg_statistic", "pg_statistic_ext_data", "pg_largeobject", "pg_largeobject_metadata", "pg_depend"}

// catalogKeys picks, per per-database catalog, the column holding the OID
// of the object a row describes, with an index on it, so the scan below
// reads only rows about objects created after initdb.
const catalogKeys = `SELECT c.relname::text, COALESCE(
	(SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'oid'),
	(SELECT a.attname FROM pg_catalog.pg_index i
		JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
		WHERE i.indrelid = c.oid AND a.atttypid IN ('pg_catalog.oid'::pg_catalog.regtype, 'pg_catalog.regproc'::pg_catalog.regtype)
		ORDER BY i.indisprimary DESC, i.indisunique DESC, i.indexrelid LIMIT 1))::text
	FROM pg_catalog.pg_class c
	WHERE c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace AND c.relkind = 'r' AND NOT c.relisshared
		AND c.relname <> ALL ($1)
	ORDER BY 1`

// createChecks generates pgginkgo.catalog_change() for this server's
// catalogs, then the functions that use it.
func createChecks(ctx context.Context, tx pgx.Tx, _ *Summary) error {
	rows, err := tx.Query(ctx, catalogKeys, skippedCatalogs)
	if err != nil {
		return err
	}
	type catalog struct{ name, key string }
	catalogs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog, error) {
		var c catalog
		var key *string
		err := r.Scan(&c.name, &key)
		c.key = deref(key)
		return c, err
	})
	if err != nil {
		return err
	}
	probes := make([]string, 0, len(catalogs))
	for _, c := range catalogs {
		where := "x." + c.key + " >= 16384 AND "
		if c.key == "" {
			where = "" // no usable index: scan it all
		}
		if c.name == "pg_namespace" {
			// A session's first temporary table creates its temp schemas,
			// which outlive it empty and change nothing observable.
			where += "x.nspname !~ '^pg_(toast_)?temp_' AND "
		}
		probes = append(probes, fmt.Sprintf(`SELECT '%s' AS c WHERE EXISTS (SELECT 1 FROM pg_catalog.%[1]s x WHERE %spg_catalog.age(x.xmin) < (SELECT h.a FROM h))`, c.name, where))
	}
	// A catalog tuple younger than the horizon (the xid of Install's
	// transaction) was written after the template was built. age() counts
	// modulo 2^32, so the comparison survives xid wraparound. The query
	// takes no parameters, so PL/pgSQL plans it once per session.
	_, err = tx.Exec(ctx, `CREATE FUNCTION pgginkgo.catalog_change() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN (WITH h AS MATERIALIZED (SELECT pg_catalog.age(m.horizon) AS a FROM pgginkgo.meta m)
	SELECT s.c FROM (
		`+strings.Join(probes, "\n\t\tUNION ALL ")+`
	) s LIMIT 1);
END $$;`+strings.ReplaceAll(blockerSQL, "@VERSION@", Version))
	return err
}

// snapshotTables are read-only after install; the trigger rejects writes
// unless pgginkgo.installing is on, which only seal sets.
var snapshotTables = []string{"meta", "tables", "seed_rows", "sequences", "large_objects"}

// seal guards the snapshot, turns on the event triggers and records the
// horizon. It runs last: from here on, any DDL counts as a schema change.
func seal(ctx context.Context, tx pgx.Tx, _ *Summary) error {
	var b strings.Builder
	for _, t := range snapshotTables {
		fmt.Fprintf(&b, `CREATE TRIGGER pgginkgo_readonly BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON pgginkgo.%[1]s
			FOR EACH STATEMENT EXECUTE FUNCTION pgginkgo.readonly();
			ALTER TABLE pgginkgo.%[1]s ENABLE ALWAYS TRIGGER pgginkgo_readonly;
			`, t)
	}
	// ENABLE ALWAYS: a spec that sets session_replication_role = replica to
	// load fixtures must still be seen.
	b.WriteString(`
		CREATE EVENT TRIGGER pgginkgo_ddl ON ddl_command_end EXECUTE FUNCTION pgginkgo.on_ddl();
		CREATE EVENT TRIGGER pgginkgo_drop ON sql_drop EXECUTE FUNCTION pgginkgo.on_drop();
		CREATE EVENT TRIGGER pgginkgo_rewrite ON table_rewrite EXECUTE FUNCTION pgginkgo.on_rewrite();
		ALTER EVENT TRIGGER pgginkgo_ddl ENABLE ALWAYS;
		ALTER EVENT TRIGGER pgginkgo_drop ENABLE ALWAYS;
		ALTER EVENT TRIGGER pgginkgo_rewrite ENABLE ALWAYS;
		SELECT pg_catalog.set_config('pgginkgo.installing', 'on', true);
	`)
	if _, err := tx.Exec(ctx, b.String()); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO pgginkgo.meta (version, template, schema_oid, horizon, class_fingerprint, lo_fingerprint)
		VALUES ($1, pg_catalog.current_database(), 'pgginkgo'::pg_catalog.regnamespace,
			pg_catalog.pg_current_xact_id()::xid, pgginkgo.class_fingerprint(), pgginkgo.lo_fingerprint())`, Version)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `SELECT pg_catalog.set_config('pgginkgo.installing', 'off', true)`)
	return err
}
