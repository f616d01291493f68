package pgginkgo

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// connTracker records which connections of a spec's pool are acquired, so
// that the end of the spec can name those never given back. pgxpool calls
// it synchronously on every Acquire and Release, through the connection
// config's tracer; the query hooks do nothing.
type connTracker struct {
	mu  sync.Mutex
	out map[*pgx.Conn]struct{}
}

func newConnTracker() *connTracker { return &connTracker{out: map[*pgx.Conn]struct{}{}} }

func (t *connTracker) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	return ctx
}

func (t *connTracker) TraceAcquireEnd(_ context.Context, _ *pgxpool.Pool, d pgxpool.TraceAcquireEndData) {
	if d.Err == nil && d.Conn != nil {
		t.mu.Lock()
		t.out[d.Conn] = struct{}{}
		t.mu.Unlock()
	}
}

func (t *connTracker) TraceRelease(_ *pgxpool.Pool, d pgxpool.TraceReleaseData) { t.forget(d.Conn) }

func (t *connTracker) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (t *connTracker) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// forget drops a connection that left the pool without a Release (Hijack).
func (t *connTracker) forget(c *pgx.Conn) {
	t.mu.Lock()
	delete(t.out, c)
	t.mu.Unlock()
}

// held returns the backend pid and leak kind of every connection still
// acquired. It runs after the spec, when nothing uses them any more.
func (t *connTracker) held() map[int32]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int32]string, len(t.out))
	for c := range t.out {
		pc := c.PgConn()
		kind := leakAcquire
		switch {
		case pc.IsBusy():
			kind = leakRows
		case pc.TxStatus() == 'T' || pc.TxStatus() == 'E':
			kind = leakTx
		}
		out[int32(pc.PID())] = kind
	}
	return out
}

// newDatabasePool opens a pool on url whose acquired connections are
// tracked; it connects lazily.
func newDatabasePool(ctx context.Context, url string) (*pgxpool.Pool, *connTracker, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, nil, err
	}
	passFileWins(&pc.ConnConfig.Config, url)
	t := newConnTracker()
	pc.ConnConfig.Tracer = t
	pc.MaxConns = specPoolConns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, nil, err
	}
	return pool, t, nil
}

// closePool closes p without ever waiting on it: pgxpool's Close waits for
// every acquired connection, forever when a spec leaked one, so a pool with
// connections out is closed in the background, where it returns once they
// are released.
func closePool(p *pgxpool.Pool) {
	if p.Stat().AcquiredConns() > 0 {
		go p.Close()
		return
	}
	p.Close()
}
