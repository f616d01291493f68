package dbmatemigrator_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	dbmatemigrator "github.com/pgginkgo/pgginkgo/migrators/dbmate"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestDbmateMigrator(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "dbmatemigrator")
}

// customTable is the migrations table of the "dbmate_custom" template, in
// a schema dbmate has to create.
const customTable = "meta.dbmate_versions"

var _ = pgginkgo.Suite(
	pgginkgo.DefineTemplate("dbmate", dbmatemigrator.New(os.DirFS("testdata/migrations"))),
	pgginkgo.DefineTemplate("dbmate_custom", dbmatemigrator.New(os.DirFS("testdata/migrations"),
		dbmatemigrator.MigrationsTable(customTable))),
	// An empty database, for specs that run the adapter themselves.
	pgginkgo.DefineTemplate("empty"),
)
