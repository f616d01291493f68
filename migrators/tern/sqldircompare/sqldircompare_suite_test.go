// Package sqldircompare_test proves that pgginkgo.SQLDir, reading a plain
// tern directory without tern, builds the schema tern builds. It is a
// suite of its own so that a SQLDir that cannot read the directory fails
// this comparison and nothing else.
package sqldircompare_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	ternmigrator "github.com/pgginkgo/pgginkgo/migrators/tern"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestSQLDirCompare(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ternmigrator: SQLDir against tern")
}

// The same directory, read by the zero-config reader and by tern.
var _ = pgginkgo.Suite(
	pgginkgo.DefineTemplate("sqldir", pgginkgo.SQLDir(os.DirFS("../testdata/plain"))),
	pgginkgo.DefineTemplate("tern", ternmigrator.New(os.DirFS("../testdata/plain"))),
)

var _ = It("SQLDir builds the schema tern builds, but for tern's version table", func(ctx SpecContext) {
	tool, err := pgginkgo.Cluster().TemplateSchema(ctx, "tern", "schema_version*")
	Expect(err).NotTo(HaveOccurred())
	files, err := pgginkgo.Cluster().TemplateSchema(ctx, "sqldir", "schema_version*")
	Expect(err).NotTo(HaveOccurred())
	Expect(tool).To(ContainSubstring("CREATE INDEX orders_customer_id_idx"))
	Expect(files).To(Equal(tool))
})

var _ = It("SQLDir refuses tern's templates and points to this adapter", func(ctx SpecContext) {
	_, err := pgginkgo.SQLDir(os.DirFS("../testdata/templated")).Fingerprint(ctx)
	Expect(err).To(MatchError(ContainSubstring("ternmigrator")))
})
