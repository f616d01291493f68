package recycle

// userNS filters namespaces to the ones a user's schema lives in. Objects
// in other sessions' temporary schemas are kept: one left in a recycled
// database is a leak the comparison must show.
const userNS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'`

// catalogQueries describe the schema, one text line per object. Each line
// names its object, so a diff reads as what differs.
var catalogQueries = []struct{ section, sql string }{
	{"database", `SELECT pg_catalog.format('encoding=%s collate=%s ctype=%s connlimit=%s allowconn=%s template=%s owner=%s acl=%s tablespace=%s comment=%s',
		pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, d.datconnlimit, d.datallowconn, d.datistemplate,
		pg_catalog.pg_get_userbyid(d.datdba), d.datacl, t.spcname, pg_catalog.shobj_description(d.oid, 'pg_database'))
		FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace
		WHERE d.datname = pg_catalog.current_database()`},
	{"database setting", `SELECT pg_catalog.format('role=%s %s', COALESCE(r.rolname, '*'), s.setconfig)
		FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
		LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole WHERE d.datname = pg_catalog.current_database()`},
	{"schema", `SELECT pg_catalog.format('%I owner=%s acl=%s comment=%s', n.nspname, pg_catalog.pg_get_userbyid(n.nspowner),
		n.nspacl, pg_catalog.obj_description(n.oid, 'pg_namespace'))
		FROM pg_catalog.pg_namespace n WHERE n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`},
	{"relation", `SELECT pg_catalog.format('%s kind=%s persistence=%s owner=%s acl=%s options=%s rls=%s/%s replident=%s partition=%s/%s tablespace=%s comment=%s def=%s',
		c.oid::pg_catalog.regclass, c.relkind, c.relpersistence, pg_catalog.pg_get_userbyid(c.relowner), c.relacl, c.reloptions,
		c.relrowsecurity, c.relforcerowsecurity, c.relreplident, c.relispartition, pg_catalog.pg_get_expr(c.relpartbound, c.oid),
		c.reltablespace, pg_catalog.obj_description(c.oid, 'pg_class'),
		CASE WHEN c.relkind IN ('i', 'I') THEN pg_catalog.pg_get_indexdef(c.oid)
			WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid)
			WHEN c.relkind = 'S' THEN (SELECT pg_catalog.format('%s start=%s inc=%s min=%s max=%s cache=%s cycle=%s',
				s.seqtypid::pg_catalog.regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
				FROM pg_catalog.pg_sequence s WHERE s.seqrelid = c.oid) END)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE ` + userNS},
	{"column", `SELECT pg_catalog.format('%s.%I #%s type=%s notnull=%s default=%s identity=%s generated=%s collation=%s acl=%s options=%s dropped=%s comment=%s',
		a.attrelid::pg_catalog.regclass, a.attname, a.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
		pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attcollation::pg_catalog.regcollation,
		a.attacl, a.attoptions, a.attisdropped, pg_catalog.col_description(a.attrelid, a.attnum))
		FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attnum > 0 AND ` + userNS},
	{"constraint", `SELECT pg_catalog.format('%I.%I on %s%s: %s validated=%s comment=%s', n.nspname, k.conname,
		NULLIF(k.conrelid, 0)::pg_catalog.regclass, NULLIF(k.contypid, 0)::pg_catalog.regtype, pg_catalog.pg_get_constraintdef(k.oid),
		k.convalidated, pg_catalog.obj_description(k.oid, 'pg_constraint'))
		FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace WHERE ` + userNS},
	{"trigger", `SELECT pg_catalog.format('%s enabled=%s comment=%s', pg_catalog.pg_get_triggerdef(t.oid), t.tgenabled,
		pg_catalog.obj_description(t.oid, 'pg_trigger'))
		FROM pg_catalog.pg_trigger t WHERE NOT t.tgisinternal`},
	{"event trigger", `SELECT pg_catalog.format('%s on %s enabled=%s function=%s tags=%s', e.evtname, e.evtevent, e.evtenabled,
		e.evtfoid::pg_catalog.regproc, e.evttags) FROM pg_catalog.pg_event_trigger e`},
	{"rule", `SELECT pg_catalog.format('%s enabled=%s', pg_catalog.pg_get_ruledef(r.oid), r.ev_enabled)
		FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE r.rulename <> '_RETURN' AND ` + userNS},
	{"policy", `SELECT pg_catalog.format('%s on %s cmd=%s permissive=%s roles=%s using=%s check=%s', p.polname,
		p.polrelid::pg_catalog.regclass, p.polcmd, p.polpermissive, p.polroles::pg_catalog.regrole[],
		pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))
		FROM pg_catalog.pg_policy p`},
	{"function", `SELECT pg_catalog.format('%s kind=%s owner=%s acl=%s lang=%s secdef=%s volatility=%s strict=%s parallel=%s config=%s returns=%s src=%s def=%s comment=%s',
		p.oid::pg_catalog.regprocedure, p.prokind, pg_catalog.pg_get_userbyid(p.proowner), p.proacl, l.lanname, p.prosecdef,
		p.provolatile, p.proisstrict, p.proparallel, p.proconfig, pg_catalog.pg_get_function_result(p.oid), pg_catalog.md5(p.prosrc),
		CASE WHEN p.prokind <> 'a' THEN pg_catalog.md5(pg_catalog.pg_get_functiondef(p.oid)) END,
		pg_catalog.obj_description(p.oid, 'pg_proc'))
		FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
		JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE ` + userNS},
	{"type", `SELECT pg_catalog.format('%s kind=%s owner=%s acl=%s base=%s notnull=%s default=%s labels=%s comment=%s',
		t.oid::pg_catalog.regtype, t.typtype, pg_catalog.pg_get_userbyid(t.typowner), t.typacl, NULLIF(t.typbasetype, 0)::pg_catalog.regtype,
		t.typnotnull, t.typdefault,
		(SELECT pg_catalog.string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid),
		pg_catalog.obj_description(t.oid, 'pg_type'))
		FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE ` + userNS},
	{"extension", `SELECT pg_catalog.format('%s version=%s schema=%s config=%s', e.extname, e.extversion,
		e.extnamespace::pg_catalog.regnamespace, e.extconfig::pg_catalog.regclass[]) FROM pg_catalog.pg_extension e`},
	{"default acl", `SELECT pg_catalog.format('role=%s schema=%s type=%s acl=%s', pg_catalog.pg_get_userbyid(d.defaclrole),
		NULLIF(d.defaclnamespace, 0)::pg_catalog.regnamespace, d.defaclobjtype, d.defaclacl) FROM pg_catalog.pg_default_acl d`},
	{"large object", `SELECT pg_catalog.format('%s owner=%s acl=%s md5=%s comment=%s', m.oid, pg_catalog.pg_get_userbyid(m.lomowner),
		m.lomacl, pg_catalog.md5(pg_catalog.lo_get(m.oid)), pg_catalog.obj_description(m.oid, 'pg_largeobject'))
		FROM pg_catalog.pg_largeobject_metadata m`},
}

// objectCatalogs lists the per-database catalogs whose rows are objects
// (they have an oid column), for the inventory of everything created after
// initdb; pg_describe_object names each one.
const objectCatalogs = `SELECT c.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'oid'
	WHERE c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace AND c.relkind = 'r' AND NOT c.relisshared
		AND c.relname NOT IN ('pg_largeobject_metadata', 'pg_enum') -- not object classes
	ORDER BY 1`

// dataRelations are the relations whose rows Inspect dumps. Our own schema
// is left out: its change log differs between a used and a fresh database
// by design. Temporary schemas are left out because other sessions' temp
// tables cannot be read; their existence shows under "relation".
const dataRelations = `SELECT c.relkind::text, pg_catalog.format('%I.%I', n.nspname, c.relname)
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'm', 'S') AND n.nspname <> 'pgginkgo'
		AND n.nspname !~ '^pg_(temp_|toast_temp_)' AND ` + userNS + `
	ORDER BY 2`
