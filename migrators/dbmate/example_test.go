package dbmatemigrator_test

import (
	"os"

	"github.com/pgginkgo/pgginkgo/decorators"
	dbmatemigrator "github.com/pgginkgo/pgginkgo/migrators/dbmate"
	"github.com/pgginkgo/pgginkgo/pgginkgo"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// A suite whose databases come from the application's dbmate migrations,
// recorded in the migrations table the application names. (Suite
// registers Ginkgo nodes, so this example only compiles.)
func ExampleNew() {
	var _ = pgginkgo.Suite(pgginkgo.DefineTemplate("default", dbmatemigrator.New(os.DirFS("db/migrations"),
		dbmatemigrator.MigrationsTable("schema_migrations"))))

	var _ = Describe("signup", decorators.FreshDatabase(), func() {
		It("stores the user", func(ctx SpecContext) {
			_, err := pgginkgo.DB(ctx).Pool().Exec(ctx, `INSERT INTO users (email) VALUES ('a@b.c')`)
			Expect(err).NotTo(HaveOccurred())
		})
	})
}
