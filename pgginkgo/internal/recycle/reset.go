package recycle

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Outcome is Reset's verdict on a used database.
type Outcome int

const (
	// Replace: the database could not be proven equal to its template.
	// Drop it (DROP DATABASE … WITH (FORCE)) and clone a new one. It is
	// the zero value, so a forgotten check errs on the safe side.
	Replace Outcome = iota
	// Recycled: the database is again exactly as its template, and may be
	// handed to the next spec.
	Recycled
)

func (o Outcome) String() string {
	if o == Recycled {
		return "recycled"
	}
	return "replace"
}

// Cause classifies why Reset said Replace, for callers that count or log.
type Cause string

const (
	CauseBusy        Cause = "busy"         // other sessions stayed connected
	CausePrepared    Cause = "prepared"     // a prepared transaction is open
	CauseSchema      Cause = "schema"       // DDL or any other catalog change
	CauseDatabase    Cause = "database"     // ALTER DATABASE, GRANT on it, per-database settings
	CauseMachinery   Cause = "machinery"    // the tracking itself was disabled or tampered with
	CauseLargeObject Cause = "large_object" // a large object of the template changed
	CauseTriggers    Cause = "triggers"     // a changed table has triggers or rules that fire in replica mode
	CauseTooLarge    Cause = "too_large"    // restoring would cost more than a clone
	CauseError       Cause = "error"        // Reset failed; see the returned error
)

// Report says what Reset did.
type Report struct {
	Outcome Outcome
	Cause   Cause  // why Replace; empty when Recycled
	Reason  string // a sentence for logs and failure messages; empty when Recycled

	Tables       []string // tables whose rows were restored
	Sequences    int      // sequences set back
	LargeObjects int      // large objects unlinked
}

// Options tune Reset. The zero value uses the defaults documented on each
// field.
type Options struct {
	// SessionWait is how long Reset waits for other sessions on the
	// database to end: a client's Close returns before its backend exits.
	// Default 250ms.
	SessionWait time.Duration

	// TruncateAbove is the heap size in bytes from which a table is
	// emptied with TRUNCATE rather than DELETE. TRUNCATE costs a file swap
	// per relation, about a millisecond, whatever the size; DELETE costs per
	// row; they cross near 1500 small rows. Default 128 KiB.
	TruncateAbove int64

	// MaxReseedRows caps the seed rows one reset may re-insert; above it a
	// fresh clone is cheaper and Reset says Replace. Default 50000.
	MaxReseedRows int64

	// Allow lists backend pids of other sessions on the database that the
	// caller holds idle for the whole Reset, such as the connections of a
	// pool it has acquired, so that they need not be closed. A listed
	// session that is not idle still makes the database busy.
	Allow []uint32
}

func (o Options) withDefaults() Options {
	if o.SessionWait <= 0 {
		o.SessionWait = 250 * time.Millisecond
	}
	if o.TruncateAbove <= 0 {
		o.TruncateAbove = 128 << 10
	}
	if o.MaxReseedRows <= 0 {
		o.MaxReseedRows = 50000
	}
	return o
}

// Reset returns a database cloned from a template prepared by Install to
// the template's exact state: rows of every table the spec wrote, sequence
// values and large objects. Tables the spec did not write are not touched.
//
// conn must be a superuser connection to the database, and by the time
// Reset runs it must be the only session there (Reset waits SessionWait for
// stragglers, then says Replace). Reset does not clear conn's own session
// state: use a reset connection (ResetApplicationName) the spec never had, or call
// CleanSession on the spec's connection first. Close conn after an error.
//
// When anything cannot be proven restored, Reset changes nothing further
// and returns Replace with a Cause and Reason; that is not an error. An
// error means Reset itself failed (connection lost, SQL error); the Report
// then says Replace too.
func (o Options) Reset(ctx context.Context, conn *pgx.Conn) (Report, error) {
	o = o.withDefaults()
	deadline := time.Now().Add(o.SessionWait)
	allow := make([]string, len(o.Allow))
	for i, pid := range o.Allow {
		allow[i] = strconv.FormatUint(uint64(pid), 10)
	}
	// Set on every call, so that an earlier Reset's sessions never count.
	if _, err := conn.Exec(ctx, "SELECT pg_catalog.set_config('pgginkgo.allow', $1, false)", "{"+strings.Join(allow, ",")+"}"); err != nil {
		return failed(err), err
	}
	for {
		st, err := readStatus(ctx, conn)
		if err != nil {
			return failed(err), err
		}
		if st.cause == CauseBusy && time.Now().Before(deadline) {
			if err := sleep(ctx, time.Millisecond); err != nil {
				return failed(err), err
			}
			continue
		}
		if st.cause != "" {
			return Report{Cause: st.cause, Reason: st.detail}, nil
		}
		p, rep := plan(st, o)
		if rep.Cause != "" || p.empty() {
			return rep, nil
		}
		if _, err := conn.Exec(ctx, p.script()); err != nil {
			// The transaction is aborted; end it so conn stays usable.
			_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			err = fmt.Errorf("resetting database: %w; drop it and clone a new one", err)
			return failed(err), err
		}
		return rep, nil
	}
}

// ResetApplicationName is the application_name of a reset connection: one
// that serves only Resets, never specs, and runs with
// session_replication_role = replica for good, so foreign keys and user
// triggers are off in it and handing it to a spec would be a bug. What it
// buys: Reset needs replica mode, and switching the setting makes
// PostgreSQL drop every cached plan of the session, so a Reset on another
// connection re-plans its checks, about 5 ms more. Leak checks tell it
// from a spec's connections by this name.
const ResetApplicationName = "pgginkgo-reset"

func failed(err error) Report {
	return Report{Cause: CauseError, Reason: err.Error()}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type status struct {
	replica      bool // the session already runs in replica mode (a reset connection)
	cause        Cause
	detail       string
	sequences    int64
	largeObjects int64
	dirty        []dirtyTable
}

type dirtyTable struct {
	oid          uint32
	kind         string
	name         string
	insertOnly   bool
	plain        bool
	seedRows     int64
	reseed       string
	bytes        int64
	referencedBy []uint32
	tracked      bool
}

// readStatus asks both questions in one round trip: may this database be
// reset, and what did the spec change.
func readStatus(ctx context.Context, conn *pgx.Conn) (status, error) {
	var st status
	b := &pgx.Batch{}
	b.Queue(`SELECT kind, detail, sequences, large_objects,
		pg_catalog.current_setting('session_replication_role') = 'replica' FROM pgginkgo.status()`).QueryRow(func(row pgx.Row) error {
		var kind, detail *string
		var seqs, los *int64
		if err := row.Scan(&kind, &detail, &seqs, &los, &st.replica); err != nil {
			return err
		}
		if kind != nil {
			st.cause, st.detail = Cause(*kind), *detail
		}
		if seqs != nil {
			st.sequences, st.largeObjects = *seqs, *los
		}
		return nil
	})
	b.Queue(`SELECT relid, kind::text, name, insert_only, plain, seed_rows, reseed, bytes, referenced_by, tracked
		FROM pgginkgo.plan()`).Query(func(rows pgx.Rows) error {
		var err error
		st.dirty, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (dirtyTable, error) {
			var d dirtyTable
			var kind, name, reseed *string
			var plain *bool
			var seed, bytes *int64
			err := r.Scan(&d.oid, &kind, &name, &d.insertOnly, &plain, &seed, &reseed, &bytes, &d.referencedBy, &d.tracked)
			d.kind, d.name, d.reseed = deref(kind), deref(name), deref(reseed)
			d.plain, d.seedRows, d.bytes = deref(plain), deref(seed), deref(bytes)
			return d, err
		})
		return err
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "3F000" || pgErr.Code == "42883" || pgErr.Code == "42P01") {
			return st, fmt.Errorf("%w (%v); clone databases from a template built by pgginkgo", ErrNotInstalled, err)
		}
		return st, fmt.Errorf("reading what the spec changed: %w", err)
	}
	return st, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
