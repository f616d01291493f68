package pgginkgo

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// SweepReport says what a sweep of an existing server dropped, and what it
// found but left, each with the reason.
type SweepReport struct {
	Dropped []SweptDatabase
	Left    []SweptDatabase
}

// SweptDatabase is one database a sweep looked at.
type SweptDatabase struct {
	Name string
	Why  string
}

// keptAt reads when a kept database was kept, from the comment keep writes.
var keptAt = regexp.MustCompile(`^pgginkgo kept at (\S+) \(`)

// SweepServer drops, on the existing server at serverURL, what pgginkgo's
// runs left behind: the databases of runs whose lease has ended (killed
// runs) and that nobody is connected to, the databases kept for failed
// specs more than keptFor ago, and the templates unused for more than
// templatesUnusedFor or never completed. Live runs, and databases with a
// session on them, are never touched. Every run does the same at its start
// (see ServerRetention); `pgginkgo gc --server URL` runs it by hand.
func SweepServer(ctx context.Context, serverURL string, keptFor, templatesUnusedFor time.Duration) (SweepReport, error) {
	t, err := parseTarget(serverURL)
	if err != nil {
		return SweepReport{}, err
	}
	conn, _, _, err := checkServer(ctx, t)
	if conn != nil {
		defer conn.Close(context.WithoutCancel(ctx))
	}
	if err != nil {
		return SweepReport{}, err
	}
	return sweepServer(ctx, conn, "", keptFor, templatesUnusedFor)
}

// sweepServer is SweepServer on an open connection to the maintenance
// database; own is the sweeping run's ID, whose databases it skips.
//
// The databases are listed before the leases: a run takes its lease before
// it creates a database, so a database of a live run is always matched by
// a lease read after it. Dead runs' databases go with a plain DROP
// DATABASE, which fails rather than ends a session that connected since.
func sweepServer(ctx context.Context, conn *pgx.Conn, own string, keptFor, templatesUnusedFor time.Duration) (SweepReport, error) {
	type found struct {
		name, comment string
		sessions      int
	}
	rows, err := conn.Query(ctx, `SELECT d.datname, COALESCE(pg_catalog.shobj_description(d.oid, 'pg_database'), ''),
		(SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.datname = d.datname)::int
		FROM pg_catalog.pg_database d WHERE d.datname LIKE 'pgg\_%' ORDER BY 1`)
	if err != nil {
		return SweepReport{}, fmt.Errorf("pgginkgo: listing the runs' databases: %w", err)
	}
	dbs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (found, error) {
		var f found
		return f, r.Scan(&f.name, &f.comment, &f.sessions)
	})
	if err != nil {
		return SweepReport{}, fmt.Errorf("pgginkgo: listing the runs' databases: %w", err)
	}
	live, err := liveRuns(ctx, conn)
	if err != nil {
		return SweepReport{}, err
	}
	var rep SweepReport
	for _, d := range dbs {
		m := runDatabase.FindStringSubmatch(d.name)
		if m == nil || m[1] == own {
			continue
		}
		var why string
		if strings.HasPrefix(d.comment, "pgginkgo kept") {
			at, ok := keptTime(d.comment)
			switch {
			case !ok:
				rep.Left = append(rep.Left, SweptDatabase{d.name, "kept, with no time in its comment"})
				continue
			case time.Since(at) < keptFor:
				continue
			}
			why = fmt.Sprintf("kept since %s, longer than %s", at.Format(time.RFC3339), shortDuration(keptFor))
		} else if live[m[1]] {
			continue
		} else {
			why = fmt.Sprintf("its run %s has no lease", m[1])
		}
		if d.sessions > 0 {
			rep.Left = append(rep.Left, SweptDatabase{d.name, fmt.Sprintf("%s, but %d session(s) are connected to it", why, d.sessions)})
			continue
		}
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+sqlquote.Ident(d.name)); err != nil {
			rep.Left = append(rep.Left, SweptDatabase{d.name, fmt.Sprintf("%s, but dropping it failed: %v", why, err)})
			continue
		}
		rep.Dropped = append(rep.Dropped, SweptDatabase{d.name, why})
	}
	swept, err := (template.Builder{}).SweepTemplates(ctx, conn, templatesUnusedFor)
	if err != nil {
		return rep, fmt.Errorf("pgginkgo: %w", err)
	}
	for _, name := range swept.Dropped {
		rep.Dropped = append(rep.Dropped, SweptDatabase{name, "template " + swept.Reasons[name]})
	}
	for _, name := range swept.Left {
		rep.Left = append(rep.Left, SweptDatabase{name, "template " + swept.Reasons[name]})
	}
	return rep, nil
}

// liveRuns reads the leases: the run IDs whose lease session exists and
// was renewed within leaseTTL, by the server's clock.
func liveRuns(ctx context.Context, conn *pgx.Conn) (map[string]bool, error) {
	rows, err := conn.Query(ctx, `SELECT application_name, floor(extract(epoch FROM pg_catalog.clock_timestamp()))::bigint
		FROM pg_catalog.pg_stat_activity WHERE application_name LIKE 'pgginkgo lease %'`)
	if err != nil {
		return nil, fmt.Errorf("pgginkgo: reading the runs' leases: %w", err)
	}
	live := map[string]bool{}
	for rows.Next() {
		var app string
		var now int64
		if err := rows.Scan(&app, &now); err != nil {
			rows.Close()
			return nil, err
		}
		f := strings.Fields(strings.TrimPrefix(app, leaseApp))
		if len(f) == 0 {
			continue
		}
		if len(f) == 1 { // connected, not yet stamped
			live[f[0]] = true
			continue
		}
		if at, err := strconv.ParseInt(f[1], 10, 64); err == nil && now-at < int64(leaseTTL/time.Second) {
			live[f[0]] = true
		}
	}
	rows.Close()
	return live, rows.Err()
}

// shortDuration prints 24h rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func keptTime(comment string) (time.Time, bool) {
	m := keptAt.FindStringSubmatch(comment)
	if m == nil {
		return time.Time{}, false
	}
	at, err := time.Parse(time.RFC3339, m[1])
	return at, err == nil
}

func (r SweepReport) log(log *slog.Logger) {
	for _, d := range r.Dropped {
		log.Info("swept a database an earlier run left", "database", d.Name, "why", d.Why)
	}
	for _, d := range r.Left {
		log.Info("left a database an earlier run left", "database", d.Name, "why", d.Why)
	}
}
