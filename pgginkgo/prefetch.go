package pgginkgo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onsi/ginkgo/v2"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
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

// Stats counts the background work of this process's prefetch pools.
type Stats struct {
	Acquires []time.Duration // a spec's wait for its database
	Recycles []time.Duration // reset in place
	Replaces []time.Duration // dropped and cloned anew
	Clones   []time.Duration // created to fill the pool
	Causes   map[string]int  // why databases were replaced
}

type statsRec struct {
	mu sync.Mutex
	s  Stats
}

// add appends d to list, one of r.s's slices, under r's lock.
func (r *statsRec) add(list *[]time.Duration, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*list = append(*list, d)
}

func (r *statsRec) cause(c string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s.Causes == nil {
		r.s.Causes = map[string]int{}
	}
	r.s.Causes[c]++
}

func (r *statsRec) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := Stats{Causes: map[string]int{}}
	c.Acquires = append(c.Acquires, r.s.Acquires...)
	c.Recycles = append(c.Recycles, r.s.Recycles...)
	c.Replaces = append(c.Replaces, r.s.Replaces...)
	c.Clones = append(c.Clones, r.s.Clones...)
	for k, v := range r.s.Causes {
		c.Causes[k] = v
	}
	return c
}

// procPools is this process's state for fresh databases; see suiteState for
// why process-global state is safe here.
var procPools struct {
	mu      sync.Mutex
	h       *Handle
	cfg     *config
	log     *slog.Logger
	admin   *pgxpool.Pool
	adm     *template.Admin
	pools   map[string]*prefetch
	stats   statsRec
	seq     int
	process int
	total   int // processes in the run
}

// ProcessStats reports how long this process's specs waited for their
// databases and how long the background work of its prefetch pools took.
func ProcessStats() Stats { return procPools.stats.snapshot() }

func startProcessPools(ctx context.Context, cfg *config, h *Handle, log *slog.Logger) error {
	admin, err := h.Pool(context.WithoutCancel(ctx), "postgres")
	if err != nil {
		return err
	}
	adm, err := template.NewAdmin(ctx, admin)
	if err != nil {
		admin.Close()
		return fmt.Errorf("pgginkgo: %w", err)
	}
	procPools.mu.Lock()
	procPools.h, procPools.cfg, procPools.log = h, cfg, log
	procPools.admin, procPools.adm = admin, adm
	procPools.pools = map[string]*prefetch{}
	procPools.stats.mu.Lock()
	procPools.stats.s = Stats{}
	procPools.stats.mu.Unlock()
	procPools.process = ginkgo.GinkgoParallelProcess()
	suiteCfg, _ := ginkgo.GinkgoConfiguration()
	procPools.total = max(1, suiteCfg.ParallelTotal)
	procPools.mu.Unlock()
	// The default template is the one most specs use: start filling now.
	if h.DefaultTemplate != "" {
		if _, err := poolFor(h.DefaultTemplate); err != nil {
			return err
		}
	}
	return nil
}

func stopProcessPools(ctx context.Context) {
	began := time.Now()
	releaseActive()
	procPools.mu.Lock()
	log := procPools.log
	pools := procPools.pools
	procPools.pools = nil
	admin := procPools.admin
	procPools.admin = nil
	procPools.mu.Unlock()
	for _, p := range pools {
		p.stop(false)
	}
	if admin != nil {
		admin.Close()
	}
	if log != nil {
		log.Debug("prefetch pools stopped", "took", time.Since(began).String())
	}
}

// ErrUnknownTemplate reports a FreshDatabase that names a template the
// suite does not define.
var ErrUnknownTemplate = errors.New("unknown template")

func poolFor(name string) (*prefetch, error) {
	procPools.mu.Lock()
	defer procPools.mu.Unlock()
	if procPools.pools == nil {
		return nil, errors.New("decorators.FreshDatabase needs the suite setup: add `var _ = pgginkgo.Suite()` to the suite, next to RunSpecs, so that a cluster is started before the specs run")
	}
	if name == "" {
		name = procPools.h.DefaultTemplate
	}
	if p := procPools.pools[name]; p != nil {
		return p, nil
	}
	tmplDB, ok := procPools.h.Templates[name]
	if !ok {
		known := make([]string, 0, len(procPools.h.Templates))
		for k := range procPools.h.Templates {
			known = append(known, fmt.Sprintf("%q", k))
		}
		sort.Strings(known)
		return nil, fmt.Errorf("pgginkgo: %w %q: the suite defines %s; add pgginkgo.Template(%q, ...) to pgginkgo.Suite or fix the name", ErrUnknownTemplate, name, strings.Join(known, ", "), name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &prefetch{
		h: procPools.h, name: name, tmplDB: tmplDB, size: procPools.cfg.prefetch,
		admin: procPools.adm, log: procPools.log, ctx: ctx, cancel: cancel,
		ready:    make(chan *Database, procPools.cfg.prefetch),
		returned: make(chan *Database, 64), errs: make(chan error, 1), stats: &procPools.stats,
		demand: make(chan struct{}, 1), cloneCost: 60 * time.Millisecond,
	}
	procPools.pools[name] = p
	// Databases of the image come first: claimed and connected now, they
	// let this process's first spec start without any CREATE DATABASE, so
	// the workers wait for that first spec before filling the rest.
	if claimed := claimReady(procPools.h.Ready[name], procPools.process, procPools.total); len(claimed) > 0 && p.seed(claimed) > 0 {
		p.onDemand.Store(true)
		return p, nil
	}
	p.begin.Do(p.start)
	return p, nil
}

// claimReady shares out a run's ready databases: process n of total takes
// every total-th one, starting at the (n-1)-th, so processes never claim
// the same one whatever -procs is.
func claimReady(names []string, process, total int) []string {
	if total < 1 || process < 1 {
		return nil
	}
	var out []string
	for i := process - 1; i < len(names); i += total {
		out = append(out, names[i])
	}
	return out
}

// seed connects the claimed ready databases side by side and puts them in
// the pool; it returns how many it could. One that fails to connect is
// dropped and its slot filled later by a clone.
func (p *prefetch) seed(names []string) int {
	dbs := make([]*Database, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := p.connect(name)
			if err != nil {
				p.log.Warn("a ready database of the image could not be used; a clone replaces it", "database", name, "error", err)
				return
			}
			dbs[i] = db
		}()
	}
	wg.Wait()
	n := 0
	for _, db := range dbs {
		if db == nil {
			continue
		}
		p.mu.Lock()
		p.live++
		p.mu.Unlock()
		select {
		case p.ready <- db:
			n++
		default: // more claimed than the pool holds
			p.unreserve()
			p.dispose(db)
		}
	}
	return n
}

func nextDatabaseName(tmpl string) string {
	procPools.mu.Lock()
	procPools.seq++
	n := procPools.seq
	procPools.mu.Unlock()
	short := tmpl
	if len(short) > 24 {
		short = short[:24]
	}
	return fmt.Sprintf("pgg_%s_p%d_%d", sanitize(short), procPools.process, n)
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
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
			return nil, err
		case <-ctx.Done():
			return nil, fmt.Errorf("pgginkgo: waiting for a database of template %q: %w", p.name, ctx.Err())
		case <-timer.C:
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
	if err := p.admin.Clone(p.ctx, p.tmplDB, name); err != nil {
		return nil, fmt.Errorf("pgginkgo: preparing a database from template %q: %w", p.name, err)
	}
	return p.connect(name)
}

// connect opens the pool of a database that exists, and drops the database
// when that fails.
func (p *prefetch) connect(name string) (*Database, error) {
	url := p.h.URL(name)
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(p.ctx, pc)
	if err == nil {
		err = pool.Ping(p.ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		_ = p.admin.Drop(context.WithoutCancel(p.ctx), name)
		return nil, fmt.Errorf("pgginkgo: connecting to new database %s: %w", name, err)
	}
	return &Database{name: name, template: p.name, url: url, pool: pool}, nil
}

// recycle resets a used database to its template's state, or replaces it.
func (p *prefetch) recycle(db *Database) {
	began := time.Now()
	db.closeSQL()
	rep, err := p.reset(db)
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

// reset keeps one of the spec's connections, clears its session state, and
// closes the others, so that the next spec finds a connected pool whose
// plans are warm (a new connection costs 11–18 ms here). The reset itself
// runs on the database's own dedicated connection, which stays in replica
// mode: switching a session's session_replication_role flushes its cached
// plans, so resetting on the spec's connection would re-plan the checks at
// every recycle, and the spec's own statements after it (17 ms against
// 4 ms per recycle for 90 tables here). The spec's connection, held idle
// by us, is vouched for with Options.Allow.
func (p *prefetch) reset(db *Database) (recycle.Report, error) {
	conns := db.pool.AcquireAllIdle(p.ctx)
	if len(conns) == 0 {
		c, err := db.pool.Acquire(p.ctx)
		if err != nil {
			return recycle.Report{}, err
		}
		conns = append(conns, c)
	}
	keep := conns[0]
	for _, c := range conns[1:] {
		_ = c.Hijack().Close(p.ctx)
	}
	conn := keep.Conn()
	// Clear what the spec left in the session (transactions, settings,
	// prepared statements, temp tables, LISTEN, advisory locks) while
	// keeping its cached plans, which DISCARD ALL would drop.
	if err := recycle.CleanSession(p.ctx, conn); err != nil {
		_ = keep.Hijack().Close(context.Background())
		return recycle.Report{}, err
	}
	defer keep.Release()
	rc, err := p.resetConn(db)
	if err != nil {
		return recycle.Report{}, err
	}
	rep, err := recycle.Options{Allow: []uint32{conn.PgConn().PID()}}.Reset(p.ctx, rc)
	if err != nil {
		db.closeReset()
	}
	return rep, err
}

// resetConn returns the database's dedicated reset connection, opening it
// on the first recycle.
func (p *prefetch) resetConn(db *Database) (*pgx.Conn, error) {
	if db.reset != nil && !db.reset.IsClosed() {
		return db.reset, nil
	}
	cc, err := p.h.ConnConfig(db.name)
	if err != nil {
		return nil, err
	}
	// What recycle.Dedicate sets, given at connection start so that it
	// costs no round trip; the first Reset warms the plans.
	cc.RuntimeParams["application_name"] = recycle.ResetApplicationName
	cc.RuntimeParams["session_replication_role"] = "replica"
	conn, err := pgx.ConnectConfig(p.ctx, cc)
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
	if err := p.admin.Drop(context.Background(), db.name); err != nil {
		p.log.Warn("dropping a used database failed", "database", db.name, "error", err)
	}
}

// stop ends the workers and closes the pool's databases. It drops them
// only with drop: at the end of a suite the cluster is removed as a whole,
// and a DROP DATABASE per database would only delay that.
//
// Without drop it also waits for the workers only briefly: a recycle or a
// clone that is cancelled half-way can take 100 ms to return, and the
// cluster is about to be stopped under it anyway. A worker that returns
// later closes its database without dropping it (see dispose).
func (p *prefetch) stop(drop bool) {
	p.final.Store(!drop)
	p.cancel()
	if drop {
		p.wg.Wait()
	} else {
		done := make(chan struct{})
		go func() {
			p.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Millisecond):
		}
	}
	done := func(db *Database) {
		if drop {
			p.dispose(db)
			return
		}
		db.close()
	}
	for {
		select {
		case db := <-p.ready:
			done(db)
		case db := <-p.returned:
			if db != nil {
				done(db)
			}
		default:
			return
		}
	}
}
