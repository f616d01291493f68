// Package budgetsuite is a fixture: 200 specs, each with a database of its
// own that it reaches over several connections at once, for runs with many
// parallel processes. BUDGET_MAX_CONNECTIONS and BUDGET_PREFETCH set the
// options of the same names.
package budgetsuite

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestBudget(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "budget fixture")
}

var _ = pgginkgo.Suite(func() []pgginkgo.SuiteOption {
	opts := []pgginkgo.SuiteOption{pgginkgo.Migrations(os.DirFS("migrations"))}
	if v := os.Getenv("BUDGET_MAX_CONNECTIONS"); v != "" {
		opts = append(opts, pgginkgo.Setting("max_connections", v))
	}
	if v := os.Getenv("BUDGET_PREFETCH"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			panic(err)
		}
		opts = append(opts, pgginkgo.Prefetch(n))
	}
	return opts
}()...)

var _ = Describe("items", decorators.FreshDatabase(), func() {
	for i := range 200 {
		It(fmt.Sprintf("stores item %d over three connections at once", i), func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for j := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[j] = db.Pool().Exec(ctx, "INSERT INTO items(name) SELECT $1 || pg_sleep(0.01)::text", fmt.Sprintf("item-%d-%d", i, j))
				}()
			}
			wg.Wait()
			for _, err := range errs {
				Expect(err).NotTo(HaveOccurred())
			}
			var n int
			Expect(db.Pool().QueryRow(ctx, "SELECT count(*) FROM items").Scan(&n)).To(Succeed())
			Expect(n).To(Equal(3), "a fresh database holds only this spec's rows")
		})
	}
})
