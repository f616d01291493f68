package gsql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A check through a transaction that is not gsql's own (a pgx.Tx, or a
// connection with a transaction open) runs inside a savepoint that it rolls
// back when it is done. A query that fails would otherwise leave the
// transaction aborted, and every later statement of the spec would fail with
// "current transaction is aborted"; rolling back even when the check
// succeeds means that a check never changes what the transaction holds.

// savepointName is gsql's own; it says whose it is to a reader of a server log.
const savepointName = "gsql_check"

// statementGrace is how much longer than statement_timeout the client waits
// inside a transaction, so that the server ends a slow query first. The
// server's error is an ordinary one, which the savepoint undoes; a context
// that ends mid-query makes pgx close the connection, and the transaction
// goes with it.
const statementGrace = time.Second

// undoTimeout bounds the rollback to the savepoint, which runs even when the
// check's own time is up.
const undoTimeout = 5 * time.Second

// inSavepoint runs fn through q inside a savepoint, with timeout as each
// statement's statement_timeout, and rolls the savepoint back afterwards.
func inSavepoint(ctx context.Context, q querier, timeout time.Duration, fn func(session) error) error {
	ms := max(timeout.Milliseconds(), 1) // 0 would mean no limit
	if _, err := q.Exec(ctx, fmt.Sprintf("SAVEPOINT %s; SET LOCAL statement_timeout = %d", savepointName, ms)); err != nil {
		return unusable(err)
	}
	err := fn(pgxSession{q})
	undo, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	if _, uerr := q.Exec(undo, fmt.Sprintf("ROLLBACK TO SAVEPOINT %[1]s; RELEASE SAVEPOINT %[1]s", savepointName)); uerr != nil {
		return errors.Join(err, fmt.Errorf("roll back to gsql's savepoint %s, without which the transaction cannot go on: %w", savepointName, uerr))
	}
	return err
}

// unusable explains why a transaction took no savepoint. A transaction that
// has ended or failed stays so while Eventually polls, so those are final.
func unusable(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrTxClosed):
		return final(errors.New("the transaction has ended (it was committed or rolled back); assert before Commit or Rollback, or pass the pool to see what was committed"))
	case errors.As(err, &pgErr) && pgErr.Code == "25P02":
		return final(errors.New("the transaction has failed: a statement in it failed earlier, and PostgreSQL ignores every command until the transaction is rolled back, or rolled back to a savepoint taken before the failure"))
	}
	return fmt.Errorf("take gsql's savepoint %s in the transaction: %w", savepointName, err)
}

// statementTimedOut tells whether the server ended a query for running past
// statement_timeout.
func statementTimedOut(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "57014" && strings.Contains(pgErr.Message, "statement timeout")
}
