package pgginkgo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onsi/ginkgo/v2"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// procPools is this process's state for fresh databases; see suiteState for
// why process-global state is safe here.
var procPools struct {
	mu      sync.Mutex
	h       *Handle
	cfg     *config
	log     *slog.Logger
	admin   *pgxpool.Pool
	adm     *template.Admin
	runDB   *pgxpool.Pool // on an existing server, the run's own database (see dumpCounter)
	pools   map[string]*prefetch
	stats   statsRec
	seq     int
	process int
	total   int // processes in the run
}

func startProcessPools(ctx context.Context, cfg *config, h *Handle, log *slog.Logger) error {
	admin, err := h.pool(context.WithoutCancel(ctx), h.Database, adminConns)
	if err != nil {
		return err
	}
	if h.Prefetch > 0 {
		cfg.prefetch = h.Prefetch
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
	if procPools.runDB != nil {
		procPools.runDB.Close()
		procPools.runDB = nil
	}
	procPools.mu.Unlock()
	for _, p := range pools {
		p.stop()
	}
	if admin != nil {
		admin.Close()
	}
	if log != nil {
		log.Debug("prefetch pools stopped", "took", time.Since(began).String())
	}
}

// knownTemplates lists the handle's template names, quoted and sorted,
// for the errors that name an unknown one.
func (h *Handle) knownTemplates() string {
	known := make([]string, 0, len(h.Templates))
	for k := range h.Templates {
		known = append(known, fmt.Sprintf("%q", k))
	}
	sort.Strings(known)
	return strings.Join(known, ", ")
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
		return nil, fmt.Errorf("pgginkgo: %w %q: the suite defines %s; add pgginkgo.DefineTemplate(%q, ...) to pgginkgo.Suite or fix the name", ErrUnknownTemplate, name, procPools.h.knownTemplates(), name)
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
	if id := procPools.h.RunID; id != "" { // an existing server: the run's name first
		return fmt.Sprintf("pgg_%s_%s_p%d_%d", id, sanitize(short[:min(len(short), 12)]), procPools.process, n)
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
