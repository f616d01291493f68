package gsql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onsi/gomega/format"
)

// PoolProvider is any value that hands out a pgx pool. Every matcher, and
// Rows and Connections, accept as the database:
//
//   - a *pgxpool.Pool,
//   - a *pgx.Conn,
//   - a *sql.DB (through pgx's stdlib driver or any other PostgreSQL driver),
//   - a PoolProvider.
//
// PoolProvider is how gsql accepts the spec database of package pgginkgo
// without importing it:
//
//	It("archives old jobs", func(ctx SpecContext) {
//		db := pgginkgo.DB(ctx) // a *pgginkgo.Database, which has Pool()
//		...
//		Expect(db).To(gsql.HaveRowCount("jobs", 0))
//	}, decorators.FreshDatabase())
//
// Your own test fixtures can implement it too.
type PoolProvider interface {
	// Pool returns the pool the matchers query through.
	Pool() *pgxpool.Pool
}

// acceptedTypes is spelled out once because every wrong-type message names it.
const acceptedTypes = "a *pgxpool.Pool, a *pgx.Conn, a *sql.DB or a gsql.PoolProvider (any value with a Pool() *pgxpool.Pool method, such as pgginkgo's spec database)"

// source is a database resolved from whatever the user passed; exactly one
// field is set.
type source struct {
	pool *pgxpool.Pool
	conn *pgx.Conn
	db   *sql.DB
}

// resolve accepts the actual values gsql understands. Functions are not among
// them: Eventually and Consistently call a function themselves and hand its
// result to the matcher, so a function here means Expect was given one.
func resolve(actual any) (source, error) {
	switch v := actual.(type) {
	case *pgxpool.Pool:
		if v != nil {
			return source{pool: v}, nil
		}
	case *pgx.Conn:
		if v != nil {
			return source{conn: v}, nil
		}
	case *sql.DB:
		if v != nil {
			return source{db: v}, nil
		}
	case PoolProvider:
		if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || !rv.IsNil() {
			if p := v.Pool(); p != nil {
				return source{pool: p}, nil
			}
			return source{}, fmt.Errorf("%T.Pool() returned nil: the database is closed or not yet open", v)
		}
	}
	hint := ""
	if actual != nil && reflect.TypeOf(actual).Kind() == reflect.Func {
		hint = "\nTo poll a function, pass it to Eventually or Consistently, which call it and match its result."
	}
	return source{}, fmt.Errorf("expects %s. Got:\n%s%s", acceptedTypes, format.Object(actual, 1), hint)
}

// session runs queries on one connection for the length of one check, so
// that everything a check sees comes from the same backend: current_database(),
// pg_backend_pid() and the rows.
type session interface {
	// each runs sql and calls visit with every row, values normalised (see
	// Rows), until visit returns false.
	each(ctx context.Context, sql string, args []any, visit func(cols []string, row []any) bool) error
}

// withSession holds one connection of src while fn runs.
func withSession(ctx context.Context, src source, fn func(session) error) error {
	switch {
	case src.pool != nil:
		c, err := src.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("acquire a connection from the pool: %w", err)
		}
		defer c.Release()
		return fn(pgxSession{c.Conn()})
	case src.conn != nil:
		return fn(pgxSession{src.conn})
	default:
		c, err := src.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("get a connection from the *sql.DB: %w", err)
		}
		defer c.Close()
		return withSQLConn(c, fn)
	}
}

// errNotPgx tells withSQLConn that the driver underneath is not pgx.
var errNotPgx = errors.New("driver is not pgx")

// withSQLConn prefers the pgx connection under a pgx-backed *sql.DB, so that
// values come back with the same Go types whichever handle the user passed.
// Other drivers (lib/pq) go through database/sql and are normalised from the
// column's type name.
func withSQLConn(c *sql.Conn, fn func(session) error) error {
	var fnErr error
	err := c.Raw(func(driverConn any) error {
		pc, ok := driverConn.(interface{ Conn() *pgx.Conn })
		if !ok {
			return errNotPgx
		}
		fnErr = fn(pgxSession{pc.Conn()})
		return nil
	})
	if errors.Is(err, errNotPgx) {
		return fn(sqlSession{c})
	}
	if err != nil {
		return err
	}
	return fnErr
}

type pgxSession struct{ conn *pgx.Conn }

func (s pgxSession) each(ctx context.Context, sql string, args []any, visit func([]string, []any) bool) error {
	// No statement cache: specs drop and create tables and types all the
	// time, and a cached plan of "SELECT * FROM jobs" would fail with
	// "cached plan must not change result type" once jobs is rebuilt.
	rows, err := s.conn.Query(ctx, sql, append([]any{pgx.QueryExecModeDescribeExec}, args...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = f.Name
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		for i := range vals {
			vals[i] = normalise(vals[i])
		}
		if !visit(cols, vals) {
			// Closing early makes pgx drain the rest; a cancelled context
			// still bounds that.
			break
		}
	}
	rows.Close()
	return rows.Err()
}

type sqlSession struct{ conn *sql.Conn }

func (s sqlSession) each(ctx context.Context, query string, args []any, visit func([]string, []any) bool) error {
	rows, err := s.conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	cols := make([]string, len(types))
	for i, t := range types {
		cols[i] = t.Name()
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i := range vals {
			vals[i] = normaliseSQL(vals[i], types[i].DatabaseTypeName())
		}
		if !visit(cols, vals) {
			break
		}
	}
	return rows.Err()
}
