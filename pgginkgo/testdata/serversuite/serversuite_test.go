// Package serversuite is a fixture: a suite that runs on an existing server
// (PGGINKGO_SERVER_URL), where one spec fails on purpose when
// SERVERSUITE_FAIL is set, so that a test can see what a failed spec leaves:
// its kept database, its report entries and the run's output.
package serversuite

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

func TestServer(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "server fixture")
}

var _ = pgginkgo.Suite(pgginkgo.Migrations(os.DirFS("migrations")))

var _ = Describe("items", decorators.FreshDatabase(), func() {
	for _, name := range []string{"a", "b", "c", "d"} {
		It("stores "+name+" in a database of its own", func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			Expect(db).To(gsql.HaveRowCount("items", 0))
			_, err := db.Pool().Exec(ctx, "INSERT INTO items (name) VALUES ($1)", name)
			Expect(err).NotTo(HaveOccurred())
			Expect(db).To(gsql.HaveRow("items", gsql.Columns{"name": name}))
		})
	}

	It("fails when asked to, and keeps its database", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		_, err := db.Pool().Exec(ctx, "INSERT INTO items (name) VALUES ('evidence')")
		Expect(err).NotTo(HaveOccurred())
		if os.Getenv("SERVERSUITE_FAIL") != "" {
			Fail("failing on purpose")
		}
	})
})
