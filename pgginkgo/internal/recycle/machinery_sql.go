package recycle

// The SQL objects Install creates in the template, in the pgginkgo schema.
// Clones copy them, so every clone tracks its own changes from its first
// statement on.
//
// Two kinds of state live here:
//   - the snapshot (meta, tables, seed_rows, sequences, large_objects): what
//     the template looked like; read-only, guarded by pgginkgo.readonly();
//   - the change log (dirty, ddl, horizons): written by the triggers and by
//     Reset, and reset to empty by Reset.

// Reads of the change log must never block writers in the spec and the other
// way round, so the log has no unique index: a spec's concurrent
// transactions never wait on each other because of our triggers, which keeps
// deadlock and lock-timeout tests behaving as in production. The log is
// transactional on purpose: a rolled-back change needs no reset.
const schemaSQL = `
CREATE SCHEMA pgginkgo;
COMMENT ON SCHEMA pgginkgo IS 'pgginkgo change tracking: lets a test database be reset to its template''s state. Do not modify; DDL here makes the database non-recyclable.';

CREATE TABLE pgginkgo.meta (
	version           text NOT NULL,
	template          text NOT NULL,
	schema_oid        oid  NOT NULL,
	horizon           xid  NOT NULL,
	class_fingerprint text NOT NULL,
	lo_fingerprint    text NOT NULL
);
CREATE TABLE pgginkgo.tables (
	relid     oid PRIMARY KEY,
	kind      "char" NOT NULL,
	name      text NOT NULL,
	plain     boolean NOT NULL,
	seed_rows bigint NOT NULL DEFAULT 0,
	reseed    text
);
CREATE TABLE pgginkgo.seed_rows (
	relid oid NOT NULL,
	ord   bigint NOT NULL,
	data  text NOT NULL,
	PRIMARY KEY (relid, ord)
);
CREATE TABLE pgginkgo.sequences (
	seq        oid PRIMARY KEY,
	name       text NOT NULL,
	last_value bigint NOT NULL,
	is_called  boolean NOT NULL
);
CREATE TABLE pgginkgo.large_objects (loid oid PRIMARY KEY);

CREATE TABLE pgginkgo.dirty (relid oid NOT NULL, op text NOT NULL);
CREATE INDEX dirty_relid ON pgginkgo.dirty (relid);
CREATE TABLE pgginkgo.ddl (tag text NOT NULL, object text);
CREATE TABLE pgginkgo.horizons (relid oid PRIMARY KEY, horizon xid NOT NULL);
`

// Functions that run on behalf of the spec's roles are SECURITY DEFINER, so
// an unprivileged application role can still log its changes. They carry no
// SET search_path (it would cost a GUC save/restore on every statement) and
// qualify every name instead.
const functionsSQL = `
CREATE FUNCTION pgginkgo.track() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
	-- The probe keeps a statement loop from growing the log; it takes no
	-- lock, so two transactions may both insert, which is harmless.
	IF NOT EXISTS (SELECT 1 FROM pgginkgo.dirty d WHERE d.relid = TG_RELID AND d.op = TG_OP) THEN
		INSERT INTO pgginkgo.dirty (relid, op) VALUES (TG_RELID, TG_OP);
	END IF;
	RETURN NULL;
END $$;

CREATE FUNCTION pgginkgo.readonly() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF pg_catalog.current_setting('pgginkgo.installing', true) = 'on' THEN
		RETURN NULL;
	END IF;
	RAISE EXCEPTION 'pgginkgo: %.% holds the template snapshot used to reset this database and is read-only', TG_TABLE_SCHEMA, TG_TABLE_NAME;
END $$;

CREATE FUNCTION pgginkgo.on_ddl() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
	r record;
	seen boolean := false;
BEGIN
	-- One entry is enough to replace the database; keep the log small
	-- when a spec runs many migrations.
	IF EXISTS (SELECT 1 FROM pgginkgo.ddl) THEN
		RETURN;
	END IF;
	FOR r IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
		seen := true;
		-- Temporary objects die with their session, and Reset requires the
		-- spec's sessions to be gone; leftovers still show in pg_class.
		IF r.schema_name IS DISTINCT FROM 'pg_temp' THEN
			INSERT INTO pgginkgo.ddl (tag, object) VALUES (TG_TAG, r.object_identity);
			RETURN;
		END IF;
	END LOOP;
	-- DROP reports its objects to on_drop instead; DROP OWNED also revokes
	-- privileges, which nothing reports, so it always counts.
	IF NOT seen AND (TG_TAG NOT LIKE 'DROP %' OR TG_TAG = 'DROP OWNED') THEN
		INSERT INTO pgginkgo.ddl (tag, object) VALUES (TG_TAG, NULL);
	END IF;
END $$;

CREATE FUNCTION pgginkgo.on_drop() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
	INSERT INTO pgginkgo.ddl (tag, object)
	SELECT TG_TAG, d.object_identity FROM pg_catalog.pg_event_trigger_dropped_objects() d
	WHERE NOT d.is_temporary LIMIT 1;
END $$;

CREATE FUNCTION pgginkgo.on_rewrite() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
	INSERT INTO pgginkgo.ddl (tag, object)
	SELECT TG_TAG, c.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class c
	WHERE c.oid = pg_catalog.pg_event_trigger_table_rewrite_oid() AND c.relpersistence <> 't';
END $$;

-- Columns that change without DDL (TRUNCATE swaps relfilenode, VACUUM and
-- ANALYZE update sizes and flags in place) are left out; everything else in
-- pg_class is state a spec could observe. Only relations created after
-- initdb (OID 16384 and up) are read: built-in ones change only through
-- GRANT, which the event trigger sees. PL/pgSQL, not SQL, so the plan is
-- cached for the session.
CREATE FUNCTION pgginkgo.class_fingerprint() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN (SELECT pg_catalog.md5(pg_catalog.string_agg((c.oid, c.relname, c.relnamespace, c.reltype, c.reloftype,
		c.relowner, c.relam, c.reltablespace, c.relkind, c.relpersistence, c.relnatts, c.relchecks,
		c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, c.relispopulated,
		c.relreplident, c.relispartition, c.relacl, c.reloptions, c.relpartbound)::text, ',' ORDER BY c.oid))
	FROM pg_catalog.pg_class c WHERE c.oid >= 16384);
END $$;

-- Every write to a large object creates new tuple versions, so (ctid, xmin)
-- of the template's pages proves them untouched without reading the data.
CREATE FUNCTION pgginkgo.lo_fingerprint() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN (SELECT COALESCE(pg_catalog.md5(pg_catalog.string_agg(x, ',' ORDER BY x)), '') FROM (
		SELECT 'm' || m.oid || ':' || m.xmin || ':' || m.ctid || ':' || m.lomowner || ':' || COALESCE(m.lomacl::text, '') AS x
		FROM pg_catalog.pg_largeobject_metadata m JOIN pgginkgo.large_objects l ON l.loid = m.oid
		UNION ALL
		SELECT 'p' || p.loid || ':' || p.pageno || ':' || p.xmin || ':' || p.ctid
		FROM pg_catalog.pg_largeobject p JOIN pgginkgo.large_objects l ON l.loid = p.loid
	) s);
END $$;

-- plan lists what the spec changed: the logged tables plus, because a
-- statement on a parent fires only the parent's triggers, all their
-- inheritance and partition descendants.
CREATE FUNCTION pgginkgo.plan() RETURNS TABLE (
	relid oid, kind "char", name text, insert_only boolean, plain boolean,
	seed_rows bigint, reseed text, bytes bigint, referenced_by oid[], tracked boolean
) LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY WITH RECURSIVE logged AS (
		SELECT d.relid, pg_catalog.bool_and(d.op = 'INSERT') AS insert_only FROM pgginkgo.dirty d GROUP BY d.relid
	), closure AS (
		SELECT l.relid, l.insert_only FROM logged l
		UNION
		SELECT i.inhrelid, c.insert_only FROM closure c JOIN pg_catalog.pg_inherits i ON i.inhparent = c.relid
	), flat AS (
		SELECT c.relid, pg_catalog.bool_and(c.insert_only) AS insert_only FROM closure c GROUP BY c.relid
	)
	SELECT f.relid, t.kind, t.name, f.insert_only, t.plain, t.seed_rows, t.reseed,
		CASE WHEN t.kind = 'r' THEN pg_catalog.pg_relation_size(f.relid) END,
		ARRAY(SELECT k.conrelid FROM pg_catalog.pg_constraint k WHERE k.contype = 'f' AND k.confrelid = f.relid),
		t.relid IS NOT NULL
	FROM flat f LEFT JOIN pgginkgo.tables t ON t.relid = f.relid
	ORDER BY f.relid;
END $$;

-- finish runs last in the reset transaction: our own writes re-logged the
-- touched tables, and anything else in the log means a trigger or rule fired
-- during the reset and changed a table we did not restore.
CREATE FUNCTION pgginkgo.finish(touched oid[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	stray text;
BEGIN
	DELETE FROM pgginkgo.dirty WHERE relid = ANY (touched);
	SELECT pg_catalog.string_agg(DISTINCT t.name, ', ') INTO stray
	FROM pgginkgo.dirty d LEFT JOIN pgginkgo.tables t ON t.relid = d.relid;
	IF stray IS NOT NULL THEN
		RAISE EXCEPTION 'pgginkgo: the reset changed %, which it did not restore (a trigger or rule that fires in replica mode?)', stray;
	END IF;
	IF EXISTS (SELECT 1 FROM pgginkgo.ddl) THEN
		RAISE EXCEPTION 'pgginkgo: the reset ran DDL';
	END IF;
END $$;
`
