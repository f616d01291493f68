package pgginkgo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
)

// recycle resets a used database to its template's state, or replaces it.
func (p *prefetch) recycle(db *Database) {
	began := time.Now()
	db.closeSQL()
	ctx, cancel := context.WithTimeout(p.ctx, cleanupTimeout)
	rep := recycle.Report{Outcome: recycle.Replace, Cause: causeCloneMode, Reason: "the role cannot recycle"}
	var err error
	if !p.h.CloneOnly {
		rep, err = p.reset(ctx, db)
	}
	cancel()
	if err == nil && rep.Outcome == recycle.Recycled {
		p.stats.add(&p.stats.s.Recycles, time.Since(began))
		select {
		case p.ready <- db:
		case <-p.ctx.Done():
			p.dispose(db)
		}
		return
	}
	if p.ctx.Err() != nil { // the suite is ending: no verdict, just clean up
		p.dispose(db)
		p.unreserve()
		return
	}
	cause := string(rep.Cause)
	if err != nil {
		cause = "error"
		p.log.Warn("recycling failed; replacing the database", "database", db.name, "error", err)
	} else {
		p.log.Debug("replacing database", "database", db.name, "cause", rep.Cause, "reason", rep.Reason)
	}
	p.stats.cause(cause)
	p.dispose(db)
	p.unreserve()
	if p.ctx.Err() == nil && p.reserve() {
		p.fill()
		p.stats.add(&p.stats.s.Replaces, time.Since(began))
	}
}

// causeCloneMode is why every database is replaced on an existing server
// where the role is not a superuser (see Handle.CloneOnly).
const causeCloneMode recycle.Cause = "clone_mode"

// reset keeps one of the spec's connections, clears its session state, and
// closes the others, so that the next spec finds a connected pool whose
// plans are warm (a new connection costs 11–18 ms here). The reset itself
// runs on the database's own dedicated connection, which stays in replica
// mode: switching a session's session_replication_role flushes its cached
// plans, so resetting on the spec's connection would re-plan the checks at
// every recycle, and the spec's own statements after it (17 ms against
// 4 ms per recycle for 90 tables here). The spec's connection, held idle
// by us, is vouched for with Options.Allow.
func (p *prefetch) reset(ctx context.Context, db *Database) (recycle.Report, error) {
	conns := db.pool.AcquireAllIdle(ctx)
	if len(conns) == 0 {
		c, err := db.pool.Acquire(ctx)
		if err != nil {
			return recycle.Report{}, err
		}
		conns = append(conns, c)
	}
	keep := conns[0]
	for _, c := range conns[1:] {
		_ = hijack(db, c).Close(ctx)
	}
	conn := keep.Conn()
	// Clear what the spec left in the session (transactions, settings,
	// prepared statements, temp tables, LISTEN, advisory locks) while
	// keeping its cached plans, which DISCARD ALL would drop.
	if err := recycle.CleanSession(ctx, conn); err != nil {
		_ = hijack(db, keep).Close(ctx)
		return recycle.Report{}, err
	}
	defer keep.Release()
	rc, err := p.resetConn(ctx, db)
	if err != nil {
		return recycle.Report{}, err
	}
	rep, err := recycle.Options{Allow: []uint32{conn.PgConn().PID()}}.Reset(ctx, rc)
	if err != nil {
		db.closeReset()
	}
	return rep, err
}

// resetConn returns the database's dedicated reset connection, opening it
// on the first recycle.
func (p *prefetch) resetConn(ctx context.Context, db *Database) (*pgx.Conn, error) {
	if db.reset != nil && !db.reset.IsClosed() {
		return db.reset, nil
	}
	cc, err := p.h.ConnConfig(db.name)
	if err != nil {
		return nil, err
	}
	// The reset connection's settings (see recycle.ResetApplicationName),
	// given at connection start so that they cost no round trip; the first
	// Reset warms the plans.
	cc.RuntimeParams["application_name"] = recycle.ResetApplicationName
	cc.RuntimeParams["session_replication_role"] = "replica"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("pgginkgo: opening the reset connection of %s: %w", db.name, err)
	}
	db.reset = conn
	return conn, nil
}

func (p *prefetch) dispose(db *Database) {
	db.close()
	if p.final.Load() {
		return // the suite has ended: the cluster goes, with its databases
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.ctx), cleanupTimeout)
	defer cancel()
	if err := p.admin.Drop(ctx, db.name); err != nil {
		p.log.Warn("dropping a used database failed", "database", db.name, "error", err)
	}
}

// hijack takes a connection out of a database's pool for good, and out of
// its leak accounting.
func hijack(db *Database, c *pgxpool.Conn) *pgx.Conn {
	conn := c.Hijack()
	db.conns.forget(conn)
	return conn
}
