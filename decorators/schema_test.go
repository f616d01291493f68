package decorators_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

var _ = Describe("schemas as pg_dump prints them", func() {
	It("of a spec's database: its template's, until the spec changes it", decorators.FreshDatabase(), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		tmpl, err := pgginkgo.Cluster().TemplateSchema(ctx, "schema")
		Expect(err).NotTo(HaveOccurred())
		Expect(tmpl).To(ContainSubstring("CREATE TABLE public.accounts"))
		Expect(tmpl).NotTo(ContainSubstring("pgginkgo"), "pgginkgo's change tracking is left out")
		Expect(tmpl).NotTo(ContainSubstring(`\restrict`), "the random guard of newer pg_dump releases is left out")
		Expect(db.Schema(ctx)).To(Equal(tmpl))

		_, err = db.Pool().Exec(ctx, `CREATE TABLE scratch (id int)`)
		Expect(err).NotTo(HaveOccurred())
		Expect(db.Schema(ctx)).To(ContainSubstring("CREATE TABLE public.scratch"))
		Expect(db.Schema(ctx, "scratch")).To(Equal(tmpl), "an excluded table is left out")
	})

	It("of an unknown template: an error that lists the suite's", func(ctx context.Context) {
		_, err := pgginkgo.Cluster().TemplateSchema(ctx, "nosuch")
		Expect(err).To(MatchError(pgginkgo.ErrUnknownTemplate))
		Expect(err).To(MatchError(`pgginkgo: TemplateSchema: unknown template "nosuch": the suite defines "schema", "seeded"`))
	})
})
