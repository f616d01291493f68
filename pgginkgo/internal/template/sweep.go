package template

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
)

// usedSep separates a complete template's marker from the time it was last
// used, in the comments Builder.Stamp writes.
const usedSep = "; used "

// TemplatePattern matches, in LIKE syntax, the databases of templates that
// Builder names with prefix.
func TemplatePattern(prefix string) string { return prefix + `\_tpl\_%` }

func stamped(marker string, at time.Time) string {
	return marker + usedSep + at.UTC().Format(time.RFC3339)
}

// lastUsed reads the stamp of a template's comment; ok is false when the
// comment carries none.
func lastUsed(comment string) (at time.Time, ok bool) {
	i := strings.LastIndex(comment, usedSep)
	if i < 0 {
		return time.Time{}, false
	}
	at, err := time.Parse(time.RFC3339, comment[i+len(usedSep):])
	return at, err == nil
}

// touchEvery is how stale a stamp may be before a run that reuses the
// template renews it: one write per hour, not one per run.
const touchEvery = time.Hour

// touch records that built is in use, unless its stamp is younger than
// fresh: templates that outlive runs are collected once unused for long
// (SweepTemplates), so each run that uses one renews it. Only the
// template's owner (or a superuser) may; for anyone else touch does
// nothing and says so in its error.
func (b Builder) touch(ctx context.Context, conn *pgx.Conn, built Built, fresh time.Duration) error {
	var comment string
	err := conn.QueryRow(ctx, `SELECT COALESCE(pg_catalog.shobj_description(d.oid, 'pg_database'), '')
		FROM pg_catalog.pg_database d WHERE d.datname = $1`, built.Database).Scan(&comment)
	if err != nil {
		return fmt.Errorf("reading the comment of template %s: %w", built.Database, err)
	}
	if at, ok := lastUsed(comment); ok && time.Since(at) < fresh {
		return nil
	}
	marker := stamped(completeMarker(built.Hash), time.Now())
	if _, err := conn.Exec(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS %s", sqlquote.Ident(built.Database), sqlquote.Literal(marker))); err != nil {
		return fmt.Errorf("recording the use of template %s: %w", built.Database, err)
	}
	return nil
}

// Swept is what SweepTemplates did to each template database it looked at.
type Swept struct {
	Dropped []string          // the templates dropped
	Left    []string          // the candidates that could not be dropped
	Reasons map[string]string // why each of them was dropped or left
}

// SweepTemplates drops, on the server conn is connected to, the template
// databases named with prefix that are unused for longer than unusedFor
// (by their stamp; a template without one is left alone), and those a
// build never completed. Each goes under its build lock, so a build in
// progress is never touched: the lock lives in conn's database, which must
// be the maintenance database the builds use. A template someone is
// connected to, or that the role may not drop, is left and listed.
func (b Builder) SweepTemplates(ctx context.Context, conn *pgx.Conn, unusedFor time.Duration) (Swept, error) {
	rows, err := conn.Query(ctx, `SELECT d.datname, COALESCE(pg_catalog.shobj_description(d.oid, 'pg_database'), ''),
			d.datistemplate AND NOT d.datallowconn
		FROM pg_catalog.pg_database d WHERE d.datname LIKE $1 ORDER BY 1`, TemplatePattern(b.prefix()))
	if err != nil {
		return Swept{}, fmt.Errorf("listing templates: %w", err)
	}
	type candidate struct{ name, why string }
	var cands []candidate
	for rows.Next() {
		var name, comment string
		var sealed bool
		if err := rows.Scan(&name, &comment, &sealed); err != nil {
			rows.Close()
			return Swept{}, err
		}
		complete := sealed && strings.HasPrefix(comment, "pgginkgo template ") && strings.Contains(comment, " complete")
		switch at, stamped := lastUsed(comment); {
		case !complete:
			cands = append(cands, candidate{name, "incomplete: its build never finished"})
		case stamped && time.Since(at) > unusedFor:
			cands = append(cands, candidate{name, fmt.Sprintf("unused since %s", at.Format(time.RFC3339))})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Swept{}, fmt.Errorf("listing templates: %w", err)
	}
	admin, err := NewAdmin(ctx, conn)
	if err != nil {
		return Swept{}, err
	}
	out := Swept{Reasons: map[string]string{}}
	for _, c := range cands {
		if err := dropUnderLock(ctx, conn, admin, c.name); err != nil {
			out.Left = append(out.Left, c.name)
			out.Reasons[c.name] = fmt.Sprintf("%s; left: %v", c.why, err)
			continue
		}
		out.Dropped = append(out.Dropped, c.name)
		out.Reasons[c.name] = c.why
	}
	return out, nil
}

// dropUnderLock drops a template while holding its build lock, and only if
// nobody is connected to it.
func dropUnderLock(ctx context.Context, conn *pgx.Conn, admin *Admin, name string) error {
	i := strings.LastIndexByte(name, '_')
	raw, err := hex.DecodeString(name[i+1:])
	if i < 0 || err != nil || len(raw) < 4 {
		return fmt.Errorf("%s does not end in a template hash", name)
	}
	key := lockKey(raw)
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_catalog.pg_try_advisory_lock($1, $2)`, int32(lockSpace), key).Scan(&got); err != nil {
		return err
	}
	if !got {
		return fmt.Errorf("a run is building it")
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_catalog.pg_advisory_unlock($1, $2)`, int32(lockSpace), key)
	}()
	var sessions int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1`, name).Scan(&sessions); err != nil {
		return err
	}
	if sessions > 0 {
		return fmt.Errorf("%d session(s) connected", sessions)
	}
	return admin.DropTemplate(ctx, name)
}
