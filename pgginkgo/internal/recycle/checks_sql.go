package recycle

// blockerSQL returns the first reason the database cannot be proven equal
// to its template after a data reset, or no row. The cheap checks come
// first; catalog scans run only when all else is clean. @VERSION@ is
// replaced at install.
//
// Event triggers catch DDL and name it for the report. The catalog checks
// are what make the answer a proof: every catalog change, whether or not an
// event trigger saw it (REASSIGN OWNED, CLUSTER, disabled event triggers,
// direct catalog updates), leaves a tuple newer than the template.
//
// Queries take no PL/pgSQL variables: parameterless queries get a cached
// generic plan from the first call, so a warmed connection plans nothing.
const blockerSQL = `
CREATE FUNCTION pgginkgo.blocker() RETURNS TABLE (kind text, detail text) LANGUAGE plpgsql AS $$
DECLARE
	m pgginkgo.meta;
	r text;
BEGIN
	SELECT * INTO m FROM pgginkgo.meta;
	IF NOT FOUND OR m.version IS DISTINCT FROM '@VERSION@' THEN
		RETURN QUERY SELECT 'machinery', 'the database was prepared by another pgginkgo version';
		RETURN;
	END IF;

	-- numbackends is cheap and usually 1 (us); only then is the costlier
	-- view read, which tells clients from autovacuum workers. Sessions the
	-- caller holds idle and vouches for (pgginkgo.allow, set by Reset) do
	-- not count: they cannot write while they are idle and held.
	IF pg_catalog.pg_stat_get_db_numbackends((SELECT d.oid FROM pg_catalog.pg_database d
		WHERE d.datname = pg_catalog.current_database())) > 1 THEN
		SELECT pg_catalog.format('%s other session(s) still connected, e.g. pid %s (application_name %L, state %s)',
			pg_catalog.count(*) OVER (), a.pid, a.application_name, a.state)
		INTO r FROM pg_catalog.pg_stat_activity a
		WHERE a.datname = pg_catalog.current_database() AND a.pid <> pg_catalog.pg_backend_pid()
			AND a.backend_type = 'client backend'
			AND NOT (a.state = 'idle' AND a.pid = ANY (COALESCE(NULLIF(pg_catalog.current_setting('pgginkgo.allow', true), ''), '{}')::int4[]))
		LIMIT 1;
	END IF;
	IF r IS NOT NULL THEN
		RETURN QUERY SELECT 'busy', r;
		RETURN;
	END IF;

	SELECT pg_catalog.format('prepared transaction %L is still open', p.gid) INTO r
	FROM pg_catalog.pg_prepared_xacts p WHERE p.database = pg_catalog.current_database() LIMIT 1;
	IF r IS NOT NULL THEN
		RETURN QUERY SELECT 'prepared', r;
		RETURN;
	END IF;

	SELECT pg_catalog.concat_ws(' ', d.tag, d.object) INTO r FROM pgginkgo.ddl d LIMIT 1;
	IF r IS NOT NULL THEN
		RETURN QUERY SELECT 'schema', 'the spec ran DDL: ' || r;
		RETURN;
	END IF;

	IF (SELECT pg_catalog.count(*) FROM pg_catalog.pg_event_trigger e JOIN pg_catalog.pg_proc p ON p.oid = e.evtfoid
		WHERE e.evtenabled = 'A' AND p.pronamespace = (SELECT x.schema_oid FROM pgginkgo.meta x)
			AND (e.evtname, p.proname) IN (('pgginkgo_ddl', 'on_ddl'), ('pgginkgo_drop', 'on_drop'), ('pgginkgo_rewrite', 'on_rewrite'))) <> 3 THEN
		RETURN QUERY SELECT 'machinery', 'a pgginkgo event trigger was disabled or dropped';
		RETURN;
	END IF;

	SELECT t.name INTO r FROM pgginkgo.tables t
	WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
		WHERE g.tgrelid = t.relid AND g.tgname = 'pgginkgo_track' AND g.tgenabled = 'A')
	LIMIT 1;
	IF r IS NOT NULL THEN
		RETURN QUERY SELECT 'machinery', 'the pgginkgo tracking trigger on ' || r || ' was disabled or dropped';
		RETURN;
	END IF;

	-- Per-database rows of shared catalogs are not copied by CREATE
	-- DATABASE, so a fresh clone has none of them.
	SELECT CASE
		WHEN d.datacl IS NOT NULL THEN 'GRANT or REVOKE changed the privileges on the database'
		WHEN d.datconnlimit <> -1 OR NOT d.datallowconn OR d.datistemplate THEN 'ALTER DATABASE changed its connection settings'
		WHEN d.datdba IS DISTINCT FROM t.datdba THEN 'the database is not owned by the template''s owner'
		WHEN d.dattablespace IS DISTINCT FROM t.dattablespace THEN 'the database is not in the template''s tablespace'
		WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting s WHERE s.setdatabase = d.oid)
			THEN 'ALTER DATABASE … SET or ALTER ROLE … IN DATABASE … SET changed settings of the database'
		WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_shdescription c WHERE c.objoid = d.oid AND c.classoid = 'pg_catalog.pg_database'::pg_catalog.regclass)
			THEN 'COMMENT ON DATABASE'
		WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_shseclabel l WHERE l.objoid = d.oid AND l.classoid = 'pg_catalog.pg_database'::pg_catalog.regclass)
			THEN 'SECURITY LABEL ON DATABASE'
		WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_subscription s WHERE s.subdbid = d.oid) THEN 'CREATE SUBSCRIPTION'
		WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots s WHERE s.database = d.datname) THEN 'a replication slot uses the database'
	END INTO r
	FROM pg_catalog.pg_database d LEFT JOIN pg_catalog.pg_database t ON t.datname = (SELECT x.template FROM pgginkgo.meta x)
	WHERE d.datname = pg_catalog.current_database();
	IF r IS NOT NULL THEN
		RETURN QUERY SELECT 'database', r;
		RETURN;
	END IF;

	r := pgginkgo.catalog_change();
	IF r IS NOT NULL THEN
		RETURN QUERY SELECT 'schema', 'pg_catalog.' || r || ' changed after the template was built (DDL, or a command such as CLUSTER or REASSIGN OWNED)';
		RETURN;
	END IF;
	IF pgginkgo.class_fingerprint() IS DISTINCT FROM m.class_fingerprint THEN
		RETURN QUERY SELECT 'schema', 'pg_class changed after the template was built (a relation was created, altered, or left behind by a temporary session)';
		RETURN;
	END IF;
	IF pgginkgo.lo_fingerprint() IS DISTINCT FROM m.lo_fingerprint THEN
		RETURN QUERY SELECT 'large_object', 'a large object of the template was written, unlinked, or had its owner or privileges changed';
		RETURN;
	END IF;
END $$;

-- status evaluates sequence_drift only once the schema is known unchanged:
-- it names user sequences, which DDL may have dropped.
CREATE FUNCTION pgginkgo.status() RETURNS TABLE (kind text, detail text, sequences bigint, large_objects bigint) LANGUAGE plpgsql AS $$
BEGIN
	SELECT b.kind, b.detail INTO kind, detail FROM pgginkgo.blocker() b;
	IF kind IS NULL THEN
		sequences := (SELECT pg_catalog.count(*) FROM pgginkgo.sequence_drift());
		large_objects := (SELECT pg_catalog.count(*) FROM pg_catalog.pg_largeobject_metadata m
			WHERE NOT EXISTS (SELECT 1 FROM pgginkgo.large_objects l WHERE l.loid = m.oid));
	END IF;
	RETURN NEXT;
END $$;
`
