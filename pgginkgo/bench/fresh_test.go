package bench_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	. "github.com/onsi/ginkgo/v2"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

const specsPerMethod = 200

// work is what every measured spec does: a few inserts and selects, the
// same for both methods.
func work(ctx context.Context, pool *pgxpool.Pool, i int) {
	var id int64
	expectOK(pool.QueryRow(ctx, "INSERT INTO t02 (parent_id, label, amount) VALUES ($1, $2, 12.5) RETURNING id", 1+i%1000, fmt.Sprintf("row %d", i)).Scan(&id))
	_, err := pool.Exec(ctx, "INSERT INTO t03 (parent_id, label) VALUES ($1, 'a'), ($1, 'b')", id)
	expectOK(err)
	var n int
	expectOK(pool.QueryRow(ctx, "SELECT count(*) FROM t03 JOIN t02 ON t02.id = t03.parent_id WHERE t02.label = $1", fmt.Sprintf("row %d", i)).Scan(&n))
	if n != 2 {
		Fail(fmt.Sprintf("expected 2 rows, got %d: the database was not fresh", n))
	}
	expectOK(pool.QueryRow(ctx, "SELECT count(*) FROM t01 WHERE name LIKE 'name 1%'").Scan(&n))
}

var (
	baselineWaits []time.Duration
	spans         = map[string][2]time.Time{}
)

// span records the first start and last end of each method's specs, from
// Ginkgo's own reports (which include the time a decorator spends).
var _ = ReportAfterEach(func(r SpecReport) {
	for _, l := range r.Labels() {
		s, ok := spans[l]
		if !ok || r.StartTime.Before(s[0]) {
			s[0] = r.StartTime
		}
		if r.EndTime.After(s[1]) {
			s[1] = r.EndTime
		}
		spans[l] = s
	}
})

// One top-level container keeps the three groups in declaration order.
var _ = Describe("fresh databases", func() {
	Describe("ours: FreshDatabase", Label("ours"), decorators.FreshDatabase(), func() {
		for i := range specsPerMethod {
			It(fmt.Sprintf("spec %d", i), func(ctx SpecContext) {
				work(ctx, pgginkgo.DB(ctx).Pool(), i)
			})
		}
	})

	// The template-per-test method as pgtestdb does it: clone, connect, run,
	// close, drop, all inside the test.
	Describe("baseline: clone per test", Label("baseline"), func() {
		var admin *pgxpool.Pool
		BeforeEach(func(ctx SpecContext) {
			if admin == nil {
				var err error
				admin, err = pgginkgo.Cluster().OpenPool(context.WithoutCancel(ctx), "postgres")
				expectOK(err)
			}
		})
		for i := range specsPerMethod {
			It(fmt.Sprintf("spec %d", i), func(ctx SpecContext) {
				h := pgginkgo.Cluster()
				name := fmt.Sprintf("baseline_%d", i)
				began := time.Now()
				_, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", pgx.Identifier{name}.Sanitize(), pgx.Identifier{h.Templates["bench"]}.Sanitize()))
				expectOK(err)
				pool, err := h.OpenPool(ctx, name)
				expectOK(err)
				expectOK(pool.Ping(ctx))
				baselineWaits = append(baselineWaits, time.Since(began))
				work(ctx, pool, i)
				pool.Close()
				_, err = admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize())
				expectOK(err)
			})
		}
	})

	// Specs that change the schema make their databases be replaced, which
	// samples the replace path's cost.
	Describe("replace sampling", Label("replace"), decorators.FreshDatabase(), func() {
		for i := range 20 {
			It(fmt.Sprintf("runs DDL %d", i), func(ctx SpecContext) {
				_, err := pgginkgo.DB(ctx).Pool().Exec(ctx, "CREATE TABLE scratch (x int)")
				expectOK(err)
			})
		}
	})
})

func freshFigures() []string {
	st := pgginkgo.ProcessStats()
	ours := st.Acquires
	if len(ours) > specsPerMethod {
		ours = ours[:specsPerMethod] // the replace sampling comes after
	}
	wall := func(l string) time.Duration { return spans[l][1].Sub(spans[l][0]) }
	return []string{
		ratioLine("fresh-db p50", percentile(ours, 0.5), percentile(baselineWaits, 0.5)),
		ratioLine("fresh-db p99", percentile(ours, 0.99), percentile(baselineWaits, 0.99)),
		ratioLine(fmt.Sprintf("suite-%d wall", specsPerMethod), wall("ours"), wall("baseline")),
		fmt.Sprintf("recycle p50: %.3f", ms(percentile(st.Recycles, 0.5))),
		fmt.Sprintf("replace p50: %.3f", ms(percentile(st.Replaces, 0.5))),
		fmt.Sprintf("fresh-db samples: ours=%d baseline=%d recycles=%d replaces=%d causes=%v", len(ours), len(baselineWaits), len(st.Recycles), len(st.Replaces), st.Causes),
	}
}
