package golangmigrator_test

import (
	"os"

	golangmigrator "github.com/pgginkgo/pgginkgo/migrators/golangmigrate"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// A suite whose default template is the golang-migrate migrations in
// ./migrations, recorded in the table the application names. Specs
// decorated with decorators.FreshDatabase() get a clone of it.
func Example() {
	var _ = pgginkgo.Suite(
		pgginkgo.DefineTemplate("default", golangmigrator.New(os.DirFS("migrations"),
			golangmigrator.MigrationsTable("app_schema_version"),
		)),
	)
}
