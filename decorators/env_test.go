package decorators_test

import (
	"context"
	"os"
	"os/exec"
	"strings"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// envState is what a process environment says about the variables
// FreshDatabase touches: "unset" differs from "".
func envState() map[string]string {
	state := map[string]string{}
	for _, k := range []string{"PGDATABASE", "DATABASE_URL"} {
		if v, ok := os.LookupEnv(k); ok {
			state[k] = "=" + v
		} else {
			state[k] = "unset"
		}
	}
	return state
}

// psqlCurrentDatabase runs psql as a spec would, naming no database.
func psqlCurrentDatabase(ctx context.Context) string {
	GinkgoHelper()
	psql, err := pgginkgo.Cluster().ClientTool(ctx, "psql")
	Expect(err).NotTo(HaveOccurred())
	out, err := exec.CommandContext(ctx, psql, "-XAtc", "SELECT current_database()").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	return strings.TrimSpace(string(out))
}

var _ = Describe("FreshDatabase's environment", func() {
	// These nodes are outside every FreshDatabase below: they see the
	// suite's environment, before and after each spec.
	var outside map[string]string
	BeforeEach(func() {
		outside = envState()
		Expect(outside).To(Equal(map[string]string{"PGDATABASE": "=" + pgginkgo.Cluster().Database, "DATABASE_URL": "unset"}))
	})
	AfterEach(func() {
		Expect(envState()).To(Equal(outside), "the spec's PGDATABASE and DATABASE_URL are gone, and what was there is back")
	})

	Describe("on a container, with ExportURL", decorators.FreshDatabase(pgginkgo.ExportURL("DATABASE_URL")), func() {
		BeforeEach(func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			Expect(envState()).To(Equal(map[string]string{"PGDATABASE": "=" + db.Name(), "DATABASE_URL": "=" + db.URL()}))
		})

		It("points psql with no -d, and code that reads DATABASE_URL, at the spec's own database", func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			seen := psqlCurrentDatabase(ctx)
			Expect(seen).To(Equal(db.Name()))

			conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
			Expect(err).NotTo(HaveOccurred())
			defer conn.Close(context.WithoutCancel(ctx))
			var viaURL string
			Expect(conn.QueryRow(ctx, "SELECT current_database()").Scan(&viaURL)).To(Succeed())
			Expect(viaURL).To(Equal(db.Name()))
			GinkgoWriter.Printf("in the spec: PGDATABASE=%s psql (no -d) reached %s; DATABASE_URL=%s reached %s\n",
				os.Getenv("PGDATABASE"), seen, os.Getenv("DATABASE_URL"), viaURL)
		})

		It("gives the next spec its own database, in PGDATABASE too", func(ctx SpecContext) {
			Expect(os.Getenv("PGDATABASE")).To(Equal(pgginkgo.DB(ctx).Name()))
			Expect(psqlCurrentDatabase(ctx)).To(Equal(pgginkgo.DB(ctx).Name()))
		})
	})

	Describe("over a value set before", decorators.Env(envscope.Set("DATABASE_URL", "postgres://elsewhere/app")), func() {
		AfterEach(func() {
			Expect(os.Getenv("DATABASE_URL")).To(Equal("postgres://elsewhere/app"), "the container's own value is back after the It")
		})
		It("replaces it in the It alone", decorators.FreshDatabase(pgginkgo.ExportURL("DATABASE_URL")), func(ctx SpecContext) {
			Expect(os.Getenv("DATABASE_URL")).To(Equal(pgginkgo.DB(ctx).URL()))
			DeferCleanup(func(ctx SpecContext) {
				Expect(os.Getenv("DATABASE_URL")).To(Equal(pgginkgo.DB(ctx).URL()), "the It's DeferCleanup sees it too")
			})
		})
	})
})
