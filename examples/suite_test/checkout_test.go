package suite_test

import (
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/examples/suite_test/shop"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

// An Ordered container tells one story in steps. FreshDatabase on it gives
// the whole container one database, shared by its specs in order, so each
// step starts where the previous one left off. The "seeded" template starts
// it with two customers: ann (id 1, one paid order) and bob (id 2).
var _ = Describe("checkout", Ordered, decorators.FreshDatabase(pgginkgo.FromTemplate("seeded")), func() {
	var orderID int64

	It("places a pending order for an existing customer", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		var err error
		orderID, err = shop.PlaceOrder(ctx, db.Pool(), 2, 1999)
		Expect(err).NotTo(HaveOccurred())
		Expect(db).To(gsql.HaveRow("orders", gsql.Columns{"id": orderID, "user_id": 2, "status": "pending"}))
	})

	It("refuses a total that is not positive", func(ctx SpecContext) {
		_, err := shop.PlaceOrder(ctx, pgginkgo.DB(ctx).Pool(), 2, 0)
		Expect(err).To(MatchError(ContainSubstring("orders_total_cents_check")))
	})

	It("takes the payment once, and only once", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		Expect(shop.Pay(ctx, db.Pool(), orderID)).To(Succeed())
		Expect(shop.Pay(ctx, db.Pool(), orderID)).To(MatchError(ContainSubstring("is not pending")))
		Expect(db).To(gsql.HaveRow("orders", gsql.Columns{"id": orderID, "status": "paid"}))
		// The trigger of migrations/003_paid_at.sql, a goose file whose
		// PL/pgSQL body sits between StatementBegin and StatementEnd.
		var paidAt *time.Time
		Expect(db.Pool().QueryRow(ctx, `select paid_at from orders where id = $1`, orderID).Scan(&paidAt)).To(Succeed())
		Expect(paidAt).NotTo(BeNil(), "paying the order records when")
	})

	It("deletes a customer's orders with the customer, as psql sees it", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		// The PG* variables point psql at the cluster, and FreshDatabase
		// sets PGDATABASE to this container's database in every node it
		// covers: psql needs no connection flags at all.
		Expect(os.Getenv("PGDATABASE")).To(Equal(db.Name()))
		Expect(psql(ctx, "select count(*) from orders")).To(Equal("2"))
		psql(ctx, "delete from users where email = 'bob@example.com'")
		Expect(psql(ctx, "select count(*) from orders")).To(Equal("1"))
		Expect(db).To(gsql.HaveRow("orders", gsql.Columns{"user_id": 1, "status": "paid"}))
	})
})
