package gsql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onsi/gomega/format"
)

// PoolProvider is any value that hands out a pgx pool. Every matcher, and
// Rows, accepts as the database:
//
//   - a *pgxpool.Pool, from which each check borrows one connection;
//   - a *pgxpool.Conn or a *pgx.Conn, which each check uses as it is;
//   - a pgx.Tx, which each check looks through, so that it sees what the
//     transaction has written and not yet committed (see the package
//     documentation on transactions);
//   - a *sql.DB (through pgx's stdlib driver or any other PostgreSQL driver);
//   - a PoolProvider.
//
// HaveOpenConnections and Connections take these too, except a pgx.Tx and a
// *pgxpool.Conn: they need the whole pool to tell its idle connections from
// leaked ones.
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

// The accepted types are spelled out once because every wrong-type message
// names them.
const (
	providerType  = "a gsql.PoolProvider (any value with a Pool() *pgxpool.Pool method, such as pgginkgo's spec database)"
	acceptedTypes = "a *pgxpool.Pool, a *pgxpool.Conn, a *pgx.Conn, a pgx.Tx, a *sql.DB or " + providerType
	poolTypes     = "a *pgxpool.Pool, a *pgx.Conn, a *sql.DB or " + providerType
)

// source is a database resolved from whatever the user passed; exactly one
// of pool, conn, tx and db is set.
type source struct {
	pool *pgxpool.Pool
	conn *pgx.Conn // a *pgx.Conn, or the one a *pgxpool.Conn holds
	tx   pgx.Tx
	db   *sql.DB
	// partial is set for a *pgxpool.Conn or a pgx.Tx: one connection, of
	// a pool gsql cannot see if it came from one.
	partial bool
}

// inTransaction tells whether checks on src run inside a transaction that
// is not gsql's own, and so inside a savepoint (see inSavepoint).
func (s source) inTransaction() bool {
	if s.tx != nil {
		return true
	}
	return s.conn != nil && s.conn.PgConn().TxStatus() != 'I'
}

// resolve accepts the actual values gsql understands; with whole, only those
// that show the whole pool (see PoolProvider). Functions are not among them:
// Eventually and Consistently call a function themselves and hand its result
// to the matcher, so a function here means Expect was given one. Every error
// is final: polling the same value again cannot help.
func resolve(actual any, whole bool) (source, error) {
	accepted := acceptedTypes
	if whole {
		accepted = poolTypes
	}
	src, err := resolveAny(actual, accepted)
	if err == nil && whole && src.partial {
		err = fmt.Errorf("needs the pool, not one connection or transaction of it, to tell the pool's idle connections from leaked ones. It expects %s. Got:\n%s", poolTypes, gotObject(actual))
	}
	if err != nil {
		return source{}, final(err)
	}
	return src, nil
}

func resolveAny(actual any, accepted string) (source, error) {
	switch v := actual.(type) {
	case *pgxpool.Pool:
		if v != nil {
			return source{pool: v}, nil
		}
	case *pgxpool.Conn:
		if v != nil {
			c, err := heldConn(v)
			return source{conn: c, partial: true}, err
		}
	case *pgx.Conn:
		if v != nil {
			return source{conn: v}, nil
		}
	case *sql.DB:
		if v != nil {
			return source{db: v}, nil
		}
	case pgx.Tx:
		if !isNilPointer(v) {
			return source{tx: v, partial: true}, nil
		}
	case PoolProvider:
		if !isNilPointer(v) {
			if p := v.Pool(); p != nil {
				return source{pool: p}, nil
			}
			return source{}, fmt.Errorf("%T.Pool() returned nil: the database is closed or not yet open", v)
		}
	}
	hint := ""
	switch actual.(type) {
	case *sql.Tx, *sql.Conn:
		hint = "\ngsql takes database/sql only as a *sql.DB; to assert what a transaction sees, begin it with pgx and pass the pgx.Tx."
	default:
		if actual != nil && reflect.TypeOf(actual).Kind() == reflect.Func {
			hint = "\nTo poll a function, pass it to Eventually or Consistently, which call it and match its result."
		}
	}
	return source{}, fmt.Errorf("expects %s. Got:\n%s%s", accepted, gotObject(actual), hint)
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// heldConn is the connection a *pgxpool.Conn holds. pgxpool panics when a
// released Conn is used, so that mistake is turned into an error here.
func heldConn(c *pgxpool.Conn) (conn *pgx.Conn, err error) {
	defer func() {
		if recover() != nil {
			conn, err = nil, errors.New("was given a *pgxpool.Conn that has been released to its pool; assert before Release, or pass the pool")
		}
	}()
	return c.Conn(), nil
}

// gotObject writes a refused value as format.Object does, except for a
// connection or transaction: format.Object would print thousands of
// characters of its socket state, cancel key included, so it gets its type
// and, where gsql can read it, its backend's pid.
func gotObject(actual any) string {
	var what string
	switch v := actual.(type) {
	case *pgxpool.Conn:
		if c, err := heldConn(v); v != nil && err == nil {
			what = fmt.Sprintf("a connection acquired from a pool, backend pid %d", c.PgConn().PID())
		} else if v != nil {
			what = "a connection released to its pool"
		}
	case pgx.Tx:
		if !isNilPointer(v) {
			what = fmt.Sprintf("a transaction on backend pid %d", v.Conn().PgConn().PID())
		}
	case *sql.Tx:
		if v != nil {
			what = "a database/sql transaction"
		}
	case *sql.Conn:
		if v != nil {
			what = "a database/sql connection"
		}
	}
	if what == "" {
		return format.Object(actual, 1)
	}
	return fmt.Sprintf("%s<%T>: %s", format.Indent, actual, what)
}

// finalError marks an error that polling again cannot mend, such as a value
// that is not a database or a malformed name, so that Eventually gives up at
// once (see Matcher.MatchMayChangeInTheFuture).
type finalError struct{ error }

func (e finalError) Unwrap() error { return e.error }

func final(err error) error { return finalError{err} }

func isFinal(err error) bool {
	var f finalError
	return errors.As(err, &f)
}

// session runs queries on one connection for the length of one check, so
// that everything a check sees comes from the same backend: current_database(),
// pg_backend_pid() and the rows.
type session interface {
	// each runs sql and calls visit with every row, values normalised (see
	// Rows), until visit returns false.
	each(ctx context.Context, sql string, args []any, visit func(cols []string, row []any) bool) error
}

// withSession holds one connection of src while fn runs. timeout is the
// check's time limit, which a check inside a transaction also gives the
// server (see inSavepoint).
func withSession(ctx context.Context, src source, timeout time.Duration, fn func(session) error) error {
	switch {
	case src.pool != nil:
		c, err := src.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("acquire a connection from the pool: %w", err)
		}
		defer c.Release()
		return fn(pgxSession{c.Conn()})
	case src.tx != nil:
		// Through the Tx, not its connection, so that a Tx that has ended
		// says so instead of gsql reading outside it.
		return inSavepoint(ctx, src.tx, timeout, fn)
	case src.conn != nil && src.inTransaction():
		return inSavepoint(ctx, src.conn, timeout, fn)
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

// querier is what a *pgx.Conn and a pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

type pgxSession struct{ q querier }

func (s pgxSession) each(ctx context.Context, sql string, args []any, visit func([]string, []any) bool) error {
	// No statement cache: specs drop and create tables and types all the
	// time, and a cached plan of "SELECT * FROM jobs" would fail with
	// "cached plan must not change result type" once jobs is rebuilt.
	rows, err := s.q.Query(ctx, sql, append([]any{pgx.QueryExecModeDescribeExec}, args...)...)
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
