// Package sqldircompare_test proves that pgginkgo.SQLDir, reading a dbmate
// directory without dbmate, builds the schema dbmate builds. It is a suite
// of its own so that a SQLDir that cannot read the directory fails this
// comparison and nothing else.
package sqldircompare_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	dbmatemigrator "github.com/pgginkgo/pgginkgo/migrators/dbmate"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestSQLDirCompare(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "dbmatemigrator: SQLDir against dbmate")
}

// The same directory, read by the zero-config reader and by dbmate.
var _ = pgginkgo.Suite(
	pgginkgo.DefineTemplate("sqldir", pgginkgo.SQLDir(os.DirFS("../testdata/migrations"))),
	pgginkgo.DefineTemplate("dbmate", dbmatemigrator.New(os.DirFS("../testdata/migrations"))),
)

var _ = It("SQLDir builds the schema dbmate builds, but for dbmate's migrations table", func(ctx SpecContext) {
	tool, err := pgginkgo.Cluster().TemplateSchema(ctx, "dbmate", "schema_migrations*")
	Expect(err).NotTo(HaveOccurred())
	files, err := pgginkgo.Cluster().TemplateSchema(ctx, "sqldir", "schema_migrations*")
	Expect(err).NotTo(HaveOccurred())
	Expect(tool).To(ContainSubstring("CREATE INDEX orders_customer_id_idx"))
	Expect(tool).To(ContainSubstring("orders by customer, for the account page"))
	Expect(files).To(Equal(tool))
})
