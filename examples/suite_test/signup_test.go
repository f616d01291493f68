package suite_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/examples/suite_test/shop"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

// FreshDatabase on the container: every spec below gets a database of its
// own, migrated from the default template and already connected, so specs
// can run in any order, on any process, without cleaning up after each
// other.
var _ = Describe("signup", decorators.FreshDatabase(), func() {
	It("stores a new user, lower-cased", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		_, err := shop.SignUp(ctx, db.Pool(), "Ann@Example.com")
		Expect(err).NotTo(HaveOccurred())

		// gsql matchers read the database's state, and on failure print
		// the rows they found.
		Expect(db).To(gsql.HaveRowCount("users", 1))
		Expect(db).To(gsql.HaveRow("users", gsql.Columns{"email": "ann@example.com"}))
	})

	It("refuses an address that is already registered", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		_, err := shop.SignUp(ctx, db.Pool(), "bob@example.com")
		Expect(err).NotTo(HaveOccurred())

		_, err = shop.SignUp(ctx, db.Pool(), "BOB@example.com")
		Expect(err).To(MatchError(shop.ErrEmailTaken))
		Expect(db).To(gsql.HaveRowCount("users", 1))
	})

	It("rejects an order for a user that does not exist", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		// database/sql code gets the same database through db.SQL().
		_, err := db.SQL().ExecContext(ctx, `insert into orders (user_id, total_cents) values (42, 100)`)
		Expect(err).To(MatchError(ContainSubstring("orders_user_id_fkey")))
	})

	It("signs up inside the caller's transaction, seen by no one else until it commits", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		tx, err := db.Pool().Begin(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx context.Context) { _ = tx.Rollback(ctx) }) // a no-op once committed
		_, err = shop.SignUp(ctx, tx, "dee@example.com")
		Expect(err).NotTo(HaveOccurred())

		// A matcher given the transaction sees what it wrote; the pool
		// does not, until the commit.
		Expect(tx).To(gsql.HaveRow("users", gsql.Columns{"email": "dee@example.com"}))
		Expect(db).To(gsql.HaveRowCount("users", 0))
		Expect(tx.Commit(ctx)).To(Succeed())
		Expect(db).To(gsql.HaveRowCount("users", 1))
	})

	It("starts from the migrated, empty schema whatever other specs wrote", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		Expect(db).To(gsql.HaveTable("orders"))
		Expect(db).To(gsql.HaveRowCount("users", 0))
	})
})
