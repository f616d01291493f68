package recycle

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// State is a database's observable state as sorted text lines: its schema
// (tables, columns, types, defaults, indexes, constraints, triggers,
// functions, views, extensions, privileges, comments, and an inventory of
// every object created after initdb), every row of every table, every
// sequence's value and every large object. Two databases with equal States
// cannot be told apart by a spec.
//
// Left out, because no spec can rely on them: physical row order, OIDs and
// relfilenodes, planner statistics, and the empty temporary schemas a
// session's first temporary table leaves behind.
type State struct {
	lines []string
}

// Inspect reads the state of the database conn is connected to, in one
// read-only, repeatable-read transaction. It is meant for tests: it reads
// every row.
func Inspect(ctx context.Context, conn *pgx.Conn) (*State, error) {
	var s State
	err := pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, textSettings+qualifiedNames); err != nil {
			return err
		}
		for _, q := range catalogQueries {
			if err := s.add(ctx, tx, q.section, q.sql); err != nil {
				return err
			}
		}
		if err := s.addObjects(ctx, tx); err != nil {
			return err
		}
		return s.addData(ctx, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("inspecting database: %w", err)
	}
	slices.Sort(s.lines)
	return &s, nil
}

func (s *State) add(ctx context.Context, tx pgx.Tx, section, sql string) error {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return fmt.Errorf("%s: %w", section, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[*string])
	if err != nil {
		return fmt.Errorf("%s: %w", section, err)
	}
	for _, l := range lines {
		s.lines = append(s.lines, section+": "+deref(l))
	}
	return nil
}

// addObjects lists every object whose OID shows it was created after
// initdb, whatever its kind, so kinds without a query of their own (casts,
// operators, collations, publications, …) are compared too.
func (s *State) addObjects(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, objectCatalogs)
	if err != nil {
		return err
	}
	catalogs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	parts := make([]string, len(catalogs))
	for i, c := range catalogs {
		parts[i] = fmt.Sprintf(`SELECT pg_catalog.pg_describe_object('%[1]s'::pg_catalog.regclass, x.oid, 0) FROM %[1]s x WHERE x.oid >= 16384`, c)
	}
	return s.add(ctx, tx, "object", `SELECT d FROM (`+strings.Join(parts, " UNION ALL ")+`) o (d)
		WHERE d !~ '^schema pg_(toast_)?temp_'`)
}

func (s *State) addData(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, dataRelations)
	if err != nil {
		return err
	}
	type rel struct{ kind, name string }
	rels, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rel, error) {
		var x rel
		return x, r.Scan(&x.kind, &x.name)
	})
	if err != nil {
		return err
	}
	for _, r := range rels {
		var err error
		switch r.kind {
		case "S":
			err = s.add(ctx, tx, "sequence "+r.name, `SELECT pg_catalog.format('last_value=%s log_cnt=%s is_called=%s', last_value, log_cnt, is_called) FROM `+r.name)
		case "m":
			err = s.add(ctx, tx, "row "+r.name, `SELECT (x.*)::text FROM `+r.name+` x`)
		default:
			err = s.add(ctx, tx, "row "+r.name, `SELECT (x.*)::text FROM ONLY `+r.name+` x`)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Lines returns the state, one sorted line per fact.
func (s *State) Lines() []string { return slices.Clone(s.lines) }

// String returns all lines, newline-separated.
func (s *State) String() string { return strings.Join(s.lines, "\n") }

// Equal reports whether both states are identical.
func (s *State) Equal(o *State) bool { return slices.Equal(s.lines, o.lines) }

// Diff returns "" for equal states, else the differing lines: "-" only in
// s, "+" only in o, at most max of them (0 for all).
func (s *State) Diff(o *State, max int) string {
	var out []string
	i, j := 0, 0
	for i < len(s.lines) || j < len(o.lines) {
		switch {
		case j >= len(o.lines) || (i < len(s.lines) && s.lines[i] < o.lines[j]):
			out = append(out, "- "+s.lines[i])
			i++
		case i >= len(s.lines) || o.lines[j] < s.lines[i]:
			out = append(out, "+ "+o.lines[j])
			j++
		default:
			i++
			j++
		}
	}
	if max > 0 && len(out) > max {
		out = append(out[:max], fmt.Sprintf("… and %d more differing lines", len(out)-max))
	}
	return strings.Join(out, "\n")
}
