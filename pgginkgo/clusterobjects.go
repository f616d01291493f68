package pgginkgo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
)

// clusterObject is one cluster-wide object: kind is role, database,
// tablespace or setting (an ALTER SYSTEM entry, whose value is part of it).
type clusterObject struct{ kind, name, value string }

func (o clusterObject) String() string {
	if o.kind == "setting" {
		return fmt.Sprintf("ALTER SYSTEM %s = %q", o.name, o.value)
	}
	return fmt.Sprintf("%s %q", o.kind, o.name)
}

// clusterState is the set of cluster-wide objects at one moment. The
// databases pgginkgo itself creates (pgg_*, pgginkgo_*) are left out:
// other processes create them all the time.
type clusterState map[clusterObject]bool

// clusterStateSQL reads pg_authid rather than the pg_roles view: a tenth
// of the cost, and it runs twice per spec.
const clusterStateSQL = `SELECT 'role', rolname FROM pg_catalog.pg_authid
UNION ALL SELECT 'database', datname FROM pg_catalog.pg_database
	WHERE datname NOT LIKE 'pgg\_%' AND datname NOT LIKE 'pgginkgo\_%'
UNION ALL SELECT 'tablespace', spcname FROM pg_catalog.pg_tablespace`

// autoConf caches the ALTER SYSTEM settings by the identity of
// postgresql.auto.conf (inode, size, modification time), which ALTER
// SYSTEM replaces: pg_file_settings parses every configuration file each
// time it is read, and a stat costs a few microseconds.
var autoConf struct {
	mu       sync.Mutex
	key      string
	settings []clusterObject
}

func autoConfSettings(ctx context.Context) ([]clusterObject, error) {
	key := ""
	if h := procPools.h; h != nil {
		if st, err := os.Stat(filepath.Join(filepath.Dir(h.PassFile), "data", "postgresql.auto.conf")); err == nil {
			key = fmt.Sprintf("%d/%d/%v", st.Size(), st.ModTime().UnixNano(), fileID(st))
		}
	}
	autoConf.mu.Lock()
	defer autoConf.mu.Unlock()
	if key != "" && key == autoConf.key {
		return autoConf.settings, nil
	}
	rows, err := procPools.admin.Query(ctx, `SELECT name, coalesce(setting, '') FROM pg_catalog.pg_file_settings
		WHERE sourcefile LIKE '%postgresql.auto.conf'`)
	if err != nil {
		return nil, err
	}
	settings, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (clusterObject, error) {
		o := clusterObject{kind: "setting"}
		return o, r.Scan(&o.name, &o.value)
	})
	if err != nil {
		return nil, err
	}
	autoConf.key, autoConf.settings = key, settings
	return settings, nil
}

func readClusterState(ctx context.Context) (clusterState, error) {
	q := clusterStateSQL
	superuser := procPools.h == nil || !procPools.h.CloneOnly
	if !superuser {
		// pg_authid and pg_file_settings are a superuser's; roles are
		// readable in pg_roles, and only a superuser can ALTER SYSTEM.
		q = strings.Replace(q, "pg_catalog.pg_authid", "pg_catalog.pg_roles", 1)
	}
	rows, err := procPools.admin.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	s := clusterState{}
	for rows.Next() {
		var o clusterObject
		if err := rows.Scan(&o.kind, &o.name); err != nil {
			return nil, err
		}
		s[o] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !superuser || (procPools.h != nil && procPools.h.External) {
		// A shared server's configuration is not the run's to reset: a
		// setting another run changed would look like the spec's.
		return s, nil
	}
	settings, err := autoConfSettings(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range settings {
		s[o] = true
	}
	return s, nil
}

// clusterObjectsBefore records the state a spec starts from; nil when it
// cannot be read, which skips the check for that spec.
func clusterObjectsBefore(ctx context.Context) clusterState {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leakCheckTimeout)
	defer cancel()
	s, err := readClusterState(ctx)
	if err != nil {
		procPools.log.Warn("reading the cluster-wide objects failed; this spec's are not checked", "error", err)
		return nil
	}
	return s
}

// removeClusterObjects undoes what the spec created outside its database,
// in dependency order: settings, databases, tablespaces, then roles (which
// may own the others). Roles lose what they own and were granted in the
// spec's database; in a kept database what they own goes to the superuser
// instead, so that the evidence stays. An object in use by another
// process's spec (a session logged in as the role, or on the database) is
// left alone. It returns the failure message under FailOnClusterObjects.
func removeClusterObjects(ctx context.Context, b *binding) string {
	if b.before == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	now, err := readClusterState(ctx)
	if err != nil {
		procPools.log.Warn("reading the cluster-wide objects failed", "database", b.db.name, "error", err)
		return ""
	}
	var created []clusterObject
	changed := map[string]string{} // setting → the value before the spec
	for o := range now {
		if !b.before[o] {
			created = append(created, o)
		}
	}
	for o := range b.before {
		if o.kind == "setting" && !now[o] {
			changed[o.name] = o.value
			if !slices.ContainsFunc(created, func(c clusterObject) bool { return c.kind == "setting" && c.name == o.name }) {
				created = append(created, clusterObject{"setting", o.name, "(reset)"})
			}
		}
	}
	if len(created) == 0 {
		return ""
	}
	order := map[string]int{"setting": 0, "database": 1, "tablespace": 2, "role": 3}
	slices.SortFunc(created, func(x, y clusterObject) int {
		if d := order[x.kind] - order[y.kind]; d != 0 {
			return d
		}
		return strings.Compare(x.name, y.name)
	})
	reload := false
	names := make([]string, 0, len(created))
	for _, o := range created {
		names = append(names, o.String())
		var err error
		switch o.kind {
		case "setting":
			reload = true
			if old, ok := changed[o.name]; ok {
				_, err = procPools.admin.Exec(ctx, fmt.Sprintf("ALTER SYSTEM SET %s = %s", sqlquote.Ident(o.name), sqlquote.Literal(old)))
			} else {
				_, err = procPools.admin.Exec(ctx, fmt.Sprintf("ALTER SYSTEM RESET %s", sqlquote.Ident(o.name)))
			}
		case "database":
			err = dropSpecDatabase(ctx, o.name)
		case "tablespace":
			err = dropTablespace(ctx, b, o.name)
		case "role":
			err = dropRole(ctx, b, o.name)
		}
		if err != nil {
			procPools.log.Warn("could not remove a cluster-wide object the spec created", "object", o.String(), "database", b.db.name, "error", err)
			continue
		}
		procPools.log.Info("removed a cluster-wide object the spec created", "object", o.String(), "database", b.db.name)
	}
	if reload {
		if _, err := procPools.admin.Exec(ctx, "SELECT pg_catalog.pg_reload_conf()"); err != nil {
			procPools.log.Warn("reloading the configuration failed", "error", err)
		}
	}
	if b.policies().objects != FailOnClusterObjects {
		return ""
	}
	return fmt.Sprintf("the spec created %d cluster-wide object(s), which outlive its database and would reach every later spec: %s.\npgginkgo removed them. Drop them in the spec (DeferCleanup), create them in a migration, or give the suite or this FreshDatabase pgginkgo.DropClusterObjects to have them removed without failing.",
		len(created), strings.Join(names, ", "))
}

// errInUse marks an object another process's spec may be using.
var errInUse = errors.New("in use by another session; left alone")

func dropSpecDatabase(ctx context.Context, name string) error {
	var sessions int
	if err := procPools.admin.QueryRow(ctx, "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1", name).Scan(&sessions); err != nil {
		return err
	}
	if sessions > 0 {
		return errInUse
	}
	_, err := procPools.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+sqlquote.Ident(name))
	return err
}

// dropTablespace drops a tablespace the spec created. What the spec put in
// it lives in its database, which recycling would clear only later: a
// tablespace that is not empty costs the database, which is replaced
// instead of recycled.
func dropTablespace(ctx context.Context, b *binding, name string) error {
	q := "DROP TABLESPACE IF EXISTS " + sqlquote.Ident(name)
	_, err := procPools.admin.Exec(ctx, q)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "55000" || b.keeps() {
		return err
	}
	b.replace = true
	b.db.close()
	if err := procPools.adm.Drop(ctx, b.db.name); err != nil {
		return err
	}
	_, err = procPools.admin.Exec(ctx, q)
	return err
}

// dropRole drops a role the spec created, with what it owns and was granted
// in the spec's database.
func dropRole(ctx context.Context, b *binding, role string) error {
	var elsewhere int
	if err := procPools.admin.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND datname IS DISTINCT FROM $2) +
		(SELECT count(*) FROM pg_catalog.pg_shdepend s JOIN pg_catalog.pg_roles r ON s.refclassid = 'pg_catalog.pg_authid'::regclass AND s.refobjid = r.oid
			JOIN pg_catalog.pg_database d ON d.oid = s.dbid
			WHERE r.rolname = $1 AND d.datname <> $2)`, role, b.db.name).Scan(&elsewhere); err != nil {
		return err
	}
	if elsewhere > 0 {
		return errInUse
	}
	id := sqlquote.Ident(role)
	if !b.replace {
		stmt := "DROP OWNED BY " + id
		if b.keeps() {
			stmt = "REASSIGN OWNED BY " + id + " TO CURRENT_USER; DROP OWNED BY " + id
		}
		if _, err := b.db.pool.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("in database %s: %w", b.db.name, err)
		}
	}
	_, err := procPools.admin.Exec(ctx, "DROP ROLE IF EXISTS "+id)
	return err
}
