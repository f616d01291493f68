package pgginkgo

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
)

// binding ties a database to the spec (or Ordered container) using it.
type binding struct {
	key      string
	dec      *decorator // the FreshDatabase that bound it, and its options
	db       *Database
	pool     *prefetch
	ordered  bool
	failed   bool
	released bool
	lastSpec string
	specText string       // the spec the database is kept for: the failed one of an Ordered container
	before   clusterState // the cluster-wide objects when the database was bound
	replace  bool         // the database was dropped (see dropTablespace)
}

// specs holds the binding of the spec running in this process. Ginkgo runs
// one spec at a time per process, and every node of a spec (and every spec
// of an Ordered container) runs in order, so the AroundNode hooks are the
// only writers of active. current is the binding of the node running now,
// for CurrentDB, which goroutines of that node may call: hence atomic.
var specs struct {
	active  *binding
	current atomic.Pointer[binding]
}

func bind(ctx context.Context, d *decorator) *binding {
	ginkgo.GinkgoHelper()
	r := ginkgo.CurrentSpecReport()
	key, ordered := d.key(r)
	spec := fmt.Sprintf("%s|%s|%d", r.LeafNodeLocation, r.LeafNodeText, r.NumAttempts)
	b := specs.active
	if b != nil && b.key == key {
		if ordered && b.lastSpec != spec {
			b.lastSpec = spec
			ginkgo.DeferCleanup(noteOrderedOutcome, b)
		}
		return b
	}
	if b != nil && !b.released {
		release(b) // the previous Ordered container has finished
	}
	if err := serverGone(); err != nil {
		ginkgo.Fail(err.Error())
	}
	p, err := poolFor(d.opts.template)
	if err != nil {
		ginkgo.Fail(err.Error())
	}
	began := time.Now()
	db, err := p.acquire(ctx)
	if err != nil {
		ginkgo.Fail(err.Error())
	}
	procPools.stats.add(&procPools.stats.s.Acquires, time.Since(began))
	b = &binding{key: key, dec: d, db: db, pool: p, ordered: ordered, lastSpec: spec}
	b.before = clusterObjectsBefore(ctx)
	if ordered {
		b.specText = strings.Join(r.ContainerHierarchyTexts, " ")
	}
	specs.active = b
	if ordered {
		ginkgo.DeferCleanup(noteOrderedOutcome, b)
	} else {
		// Registered first, so it runs last: after AfterEach and the
		// spec's own DeferCleanups, which still see the database.
		ginkgo.DeferCleanup(func(ctx ginkgo.SpecContext) {
			if serverGone() != nil {
				// Nothing is left to check, dump or recycle; the next spec
				// fails with the cause.
				b.released = true
				return
			}
			// A leak fails the spec, so it is known before deciding to keep.
			leaked := checkLeaks(ctx, b, true)
			b.failed = ginkgo.CurrentSpecReport().Failed() || leaked != ""
			objects := removeClusterObjects(ctx, b)
			b.failed = b.failed || objects != ""
			reportKeepable(b)
			if b.failed {
				dumpFailed(ctx, b.db) // before release recycles or keeps it
			}
			release(b)
			if msg := strings.TrimSpace(leaked + "\n" + objects); msg != "" {
				ginkgo.Fail(msg)
			}
		})
	}
	return b
}

// noteOrderedOutcome runs after each spec of an Ordered container: the
// database outlives the spec, so only the failure is recorded here.
func noteOrderedOutcome(ctx ginkgo.SpecContext, b *binding) {
	if ginkgo.CurrentSpecReport().Failed() && !b.failed {
		b.failed = true
		b.specText = ginkgo.CurrentSpecReport().FullText()
		reportKeepable(b)
		dumpFailed(ctx, b.db) // the state the spec failed in
	}
}

// policies are the spec's own, over the suite's.
func (b *binding) policies() policies { return b.dec.opts.policies.over(procPools.cfg.policies) }

func (b *binding) keeps() bool {
	switch b.policies().keep {
	case KeepAlways:
		return true
	case KeepNever:
		return false
	default:
		return b.failed
	}
}

// reportKeepable puts the database and a psql command in the spec's report
// (shown with the failure) when the database will be kept.
func reportKeepable(b *binding) {
	if !b.keeps() {
		return
	}
	ginkgo.AddReportEntry("pgginkgo database kept",
		fmt.Sprintf("database %s (template %s) is kept for inspection while the suite runs:\n  %s", b.db.name, b.db.template, b.db.PsqlCommand()),
		ginkgo.ReportEntryVisibilityFailureOrVerbose)
}

// release returns the database to its pool, or keeps it.
func release(b *binding) {
	if b.released {
		return
	}
	b.released = true
	if b.ordered {
		// The container has ended: no spec context is left to derive from;
		// both bound their calls.
		_ = checkLeaks(context.Background(), b, false)
		if msg := removeClusterObjects(context.Background(), b); msg != "" {
			procPools.log.Warn(msg)
		}
	}
	if b.replace {
		b.pool.forget(b.db)
		return
	}
	if b.keeps() {
		keep(b)
		return
	}
	b.pool.release(b.db)
}

func releaseActive() {
	if b := specs.active; b != nil && !b.released {
		release(b)
	}
	specs.active = nil
}

// releaseEndedOrdered runs before every spec (Suite registers it as a
// ReportBeforeEach): the database of an Ordered container goes back to
// its pool as soon as a spec outside the container starts, rather than
// waiting for the next FreshDatabase.
func releaseEndedOrdered(r ginkgo.SpecReport) {
	b := specs.active
	if b == nil || b.released || !b.ordered {
		return
	}
	if key, ordered := b.dec.key(r); ordered && key == b.key {
		return
	}
	releaseActive()
}

func keep(b *binding) {
	why := "failed"
	if !b.failed {
		why = "kept by policy"
	}
	spec := b.specText
	if spec == "" {
		// Kept at the end of its own spec; an Ordered container's database
		// is kept when the next container binds, so it noted its spec.
		spec = ginkgo.CurrentSpecReport().FullText()
	}
	// The time lets a sweep of an existing server drop it after a TTL.
	comment := fmt.Sprintf("pgginkgo kept at %s (%s): %s", time.Now().UTC().Format(time.RFC3339), why, spec)
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_, err := procPools.admin.Exec(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS %s",
		sqlquote.Ident(b.db.name), sqlquote.Literal(comment)))
	if err != nil {
		procPools.log.Warn("marking a kept database failed", "database", b.db.name, "error", err)
	}
	procPools.log.Info("database kept", "database", b.db.name, "psql", b.db.PsqlCommand())
	b.pool.forget(b.db)
}
