package decorators_test

import (
	"os"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// A database per spec, and one shared by an Ordered container's specs.
func ExampleFreshDatabase() {
	var _ = Describe("signup", decorators.FreshDatabase(), func() {
		It("stores the user", func(ctx SpecContext) {
			_, err := pgginkgo.DB(ctx).Pool().Exec(ctx, `INSERT INTO users (email) VALUES ('a@b.c')`)
			Expect(err).NotTo(HaveOccurred())
		})
	})

	var _ = Describe("checkout", Ordered, decorators.FreshDatabase(pgginkgo.FromTemplate("seeded")), func() {
		It("fills the cart", func(ctx SpecContext) { /* writes */ })
		It("pays", func(ctx SpecContext) { /* sees what the previous spec wrote */ })
	})
}

// Scoped environment variables, restored after the spec whatever happens.
func ExampleEnv() {
	var _ = It("reads config from env",
		decorators.Env(envscope.Set("APP_MODE", "test"), envscope.Unset("DEBUG")),
		func() {
			Expect(os.Getenv("APP_MODE")).To(Equal("test"))
			_, set := os.LookupEnv("DEBUG")
			Expect(set).To(BeFalse())
		})
}

// Where the decorator goes decides which nodes see the database. On the
// container, its BeforeEach and AfterEach do too; on an It, only that It
// (and its DeferCleanups) does, and a container's BeforeEach that asks for
// the database fails, saying to move the decorator to the container.
func ExampleFreshDatabase_placement() {
	var _ = Describe("orders", decorators.FreshDatabase(), func() {
		BeforeEach(func(ctx SpecContext) {
			_, err := pgginkgo.DB(ctx).Pool().Exec(ctx, `INSERT INTO users (email) VALUES ('a@b.c')`)
			Expect(err).NotTo(HaveOccurred())
		})
		It("sees what BeforeEach wrote", func(ctx SpecContext) { /* same database */ })
	})

	var _ = Describe("reports", func() {
		It("needs a database of its own, here alone", decorators.FreshDatabase(pgginkgo.FromTemplate("seeded")), func(ctx SpecContext) {
			Expect(os.Getenv("PGDATABASE")).To(Equal(pgginkgo.DB(ctx).Name()))
		})
	})
}
