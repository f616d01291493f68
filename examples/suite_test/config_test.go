package suite_test

import (
	"os"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/examples/suite_test/shop"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

// Env sets (or unsets) variables for one spec and puts back exactly what
// was there afterwards, pass or fail. Use it rather than os.Setenv: the
// environment is shared by the whole process, and pgginkgo keeps the PG*
// variables in it.
var _ = Describe("configuration", func() {
	It("reads the mode from APP_MODE, with debug logging off", decorators.Env(envscope.Set("APP_MODE", "test"), envscope.Unset("DEBUG")), func() {
		mode, debug := shop.Mode()
		Expect(mode).To(Equal("test"))
		Expect(debug).To(BeFalse())
	})

	It("turns debug logging on when DEBUG is set, even empty", decorators.Env(envscope.Set("DEBUG", "")), func() {
		_, debug := shop.Mode()
		Expect(debug).To(BeTrue())
	})

	It("runs in production when APP_MODE is unset", decorators.Env(envscope.Unset("APP_MODE")), func() {
		mode, _ := shop.Mode()
		Expect(mode).To(Equal("production"))
		// The cluster's variables are still there inside the scope.
		Expect(os.Getenv("PGHOST")).NotTo(BeEmpty())
	})
})

// An app that reads its connection string from the environment gets the
// spec's database through pgginkgo.ExportURL: FreshDatabase sets
// DATABASE_URL (and PGDATABASE, for libpq tools) in every node it covers,
// and puts back what was there after each one.
var _ = Describe("an app configured by DATABASE_URL", decorators.FreshDatabase(pgginkgo.ExportURL("DATABASE_URL")), func() {
	It("signs a user up through a connection of its own", func(ctx SpecContext) {
		conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(conn.Close)

		_, err = shop.SignUp(ctx, conn, "cy@example.com")
		Expect(err).NotTo(HaveOccurred())
		Expect(pgginkgo.DB(ctx)).To(gsql.HaveRow("users", gsql.Columns{"email": "cy@example.com"}))
	})
})
