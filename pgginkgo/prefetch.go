package pgginkgo

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// prefetch keeps databases of one template ready and connected for this
// process, so that a spec takes one with a channel receive. Used databases
// come back through returned and are recycled (reset in place) or replaced
// (dropped and cloned anew) in the background, off the spec's path.
type prefetch struct {
	h        *Handle
	name     string // template name
	tmplDB   string // template database
	size     int
	admin    *template.Admin
	log      *slog.Logger
	ctx      context.Context
	cancel   context.CancelFunc
	ready    chan *Database
	returned chan *Database
	errs     chan error
	stats    *statsRec

	mu        sync.Mutex
	live      int           // databases owned: ready, in use or being recycled
	waitSum   time.Duration // specs' waits since the last clone (see waited)
	cloneCost time.Duration // what a clone takes, as measured
	wg        sync.WaitGroup
	begin     sync.Once     // starts the workers
	final     atomic.Bool   // the suite has ended: dispose closes, never drops
	onDemand  atomic.Bool   // seeded from the image: clone only when a spec waits
	demand    chan struct{} // a spec waited (see waited)
}

// acquireTimeout bounds a spec's wait for a database, so that a broken pool
// fails the spec instead of hanging it.
const acquireTimeout = 2 * time.Minute

func (p *prefetch) acquire(ctx context.Context) (*Database, error) {
	p.begin.Do(p.start)
	// Take a ready database first, even if an earlier error is pending.
	select {
	case db := <-p.ready:
		return db, nil
	default:
	}
	timer := time.NewTimer(acquireTimeout)
	defer timer.Stop()
	// A pool seeded from the image grows once specs have waited long enough
	// (see waited), even while this spec is still waiting: at once when the
	// pool has no database left that could come back.
	since := time.Now()
	grow := time.NewTimer(p.untilGrowth())
	defer grow.Stop()
	for {
		select {
		case db := <-p.ready:
			p.waited(time.Since(since))
			return db, nil
		case <-grow.C:
			p.grow()
			since = time.Now()
			grow.Reset(p.untilGrowth())
		case err := <-p.errs:
			if gone := serverGoneAfter(err); gone != nil {
				return nil, gone // the cause, not a symptom
			}
			return nil, err
		case <-ctx.Done():
			return nil, fmt.Errorf("pgginkgo: waiting for a database of template %q: %w", p.name, ctx.Err())
		case <-timer.C:
			if gone := serverGone(); gone != nil {
				return nil, gone
			}
			return nil, fmt.Errorf("pgginkgo: no database of template %q became ready within %s; see the pgginkgo log in GinkgoWriter", p.name, acquireTimeout)
		}
	}
}

// release hands a used database back for recycling in the background.
func (p *prefetch) release(db *Database) {
	// Blocking when the recycler is far behind keeps disk use bounded.
	p.returned <- db
}

// forget removes a kept database from the pool's accounting.
func (p *prefetch) forget(db *Database) {
	db.close()
	p.returned <- nil
}

// workers is how many goroutines per template prepare databases: on two
// cores, one can recycle while the other clones.
const workers = 2

func (p *prefetch) start() {
	p.wg.Add(workers)
	for range workers {
		go p.run()
	}
}

func (p *prefetch) run() {
	defer p.wg.Done()
	for {
		select {
		case db := <-p.returned:
			p.handle(db)
			continue
		case <-p.ctx.Done():
			return
		default:
		}
		if !p.onDemand.Load() && p.reserve() {
			p.fill()
			continue
		}
		select {
		case db := <-p.returned:
			p.handle(db)
		case <-p.demand:
			if p.reserve() {
				p.fill()
			}
		case <-p.ctx.Done():
			return
		}
	}
}

// waited records that a spec waited d for its database. A pool seeded from
// the image grows only once specs have waited, in all, as long as a new
// database costs: the rent-or-buy rule. A new database costs its clone and
// then its first reset, on a connection whose plans are cold, about as
// long again; for 90 tables here that is 125 + 100 ms, against 20–30 ms for
// recycling a warm one. In a short package the seeded databases, recycled
// in turn, beat clones that arrive late and compete for the same cores; a
// long package still grows its pool to Prefetch.
func (p *prefetch) waited(d time.Duration) {
	p.mu.Lock()
	p.waitSum += d
	grow := p.waitSum >= 2*p.cloneCost
	p.mu.Unlock()
	if grow {
		p.grow()
	}
}

// untilGrowth is how much longer specs may wait before the pool grows:
// nothing when it owns no database at all (every one was kept or failed).
func (p *prefetch) untilGrowth() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live == 0 {
		return 0
	}
	return max(0, 2*p.cloneCost-p.waitSum)
}

// grow asks a worker for one more database.
func (p *prefetch) grow() {
	p.mu.Lock()
	p.waitSum = 0
	p.mu.Unlock()
	select {
	case p.demand <- struct{}{}:
	default:
	}
}

// cloned updates the estimate of a clone's cost that waited compares with.
func (p *prefetch) cloned(d time.Duration) {
	p.mu.Lock()
	p.cloneCost = (p.cloneCost + d) / 2
	p.mu.Unlock()
}

// reserve claims a slot for a new database while the pool owns fewer than
// its size: ready, in use or being recycled.
func (p *prefetch) reserve() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live >= p.size {
		return false
	}
	p.live++
	return true
}

func (p *prefetch) unreserve() {
	p.mu.Lock()
	p.live--
	p.mu.Unlock()
}

func (p *prefetch) handle(db *Database) {
	if db == nil { // a kept database left the pool
		p.unreserve()
		return
	}
	p.recycle(db)
}

// fill creates one database for a slot reserve claimed.
func (p *prefetch) fill() {
	began := time.Now()
	db, err := p.create()
	if err != nil {
		p.unreserve()
		if p.ctx.Err() != nil {
			return
		}
		p.log.Error("preparing a database failed", "template", p.name, "error", err)
		select {
		case p.errs <- err:
		default:
		}
		// Back off so a persistent failure does not spin; the error waits
		// for the next spec that asks.
		select {
		case <-time.After(time.Second):
		case <-p.ctx.Done():
		}
		return
	}
	p.stats.add(&p.stats.s.Clones, time.Since(began))
	p.cloned(time.Since(began))
	select {
	case p.ready <- db:
	case <-p.ctx.Done():
		p.dispose(db)
	}
}

// create clones the template and connects, so the first connection's cost
// (11–18 ms measured here) is paid before a spec asks.
func (p *prefetch) create() (*Database, error) {
	name := nextDatabaseName(p.name)
	ctx, cancel := context.WithTimeout(p.ctx, cleanupTimeout)
	defer cancel()
	if err := p.admin.Clone(ctx, p.tmplDB, name); err != nil {
		return nil, fmt.Errorf("pgginkgo: preparing a database from template %q: %w", p.name, err)
	}
	return p.connect(name)
}

// connect opens the pool of a database that exists, and drops the database
// when that fails.
func (p *prefetch) connect(name string) (*Database, error) {
	url := p.h.URL(name)
	pool, conns, err := newDatabasePool(p.ctx, url)
	if err == nil {
		ctx, cancel := context.WithTimeout(p.ctx, connectTimeout)
		err = pool.Ping(ctx)
		cancel()
		if err != nil {
			pool.Close()
		}
	}
	if err != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(p.ctx), cleanupTimeout)
		defer cancel()
		_ = p.admin.Drop(ctx, name)
		return nil, fmt.Errorf("pgginkgo: connecting to new database %s: %w", name, err)
	}
	return &Database{name: name, template: p.name, url: url, psql: p.h.psqlURL(name), pool: pool, conns: conns}, nil
}

// connectTimeout bounds a new connection; cleanupTimeout bounds every
// database call made after a spec (recycling, dropping, marking), so that
// a wedged server fails a spec instead of hanging the suite.
const (
	connectTimeout = 30 * time.Second
	cleanupTimeout = time.Minute
)

// stop ends the workers and closes the pool's databases at the end of a
// suite, without dropping them: the cluster is removed as a whole, and a
// DROP DATABASE per database would only delay that. It waits for the
// workers only briefly, for the same reason: a recycle or a clone that is
// cancelled half-way can take 100 ms to return. A worker that returns later
// closes its database without dropping it (see dispose).
func (p *prefetch) stop() {
	p.final.Store(true)
	p.cancel()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Millisecond):
	}
	for {
		select {
		case db := <-p.ready:
			db.close()
		case db := <-p.returned:
			if db != nil {
				db.close()
			}
		default:
			return
		}
	}
}
