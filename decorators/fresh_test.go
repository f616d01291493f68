package decorators_test

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func count(ctx context.Context, db *pgginkgo.Database, table string) int {
	var n int
	Expect(db.Pool().QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n)).To(Succeed())
	return n
}

var _ = Describe("FreshDatabase", func() {
	Describe("isolation", decorators.FreshDatabase(), func() {
		// Each spec writes; if any spec saw another's rows, the count would
		// exceed one. Run with -procs=2 and random order, the specs also
		// land on recycled databases.
		for i := range 12 {
			It(fmt.Sprintf("sees only its own writes (%d)", i), func(ctx SpecContext) {
				db := pgginkgo.DB(ctx)
				Expect(count(ctx, db, "accounts")).To(Equal(0))
				_, err := db.Pool().Exec(ctx, "INSERT INTO accounts (email) VALUES ($1)", fmt.Sprintf("u%d@example.com", i))
				Expect(err).NotTo(HaveOccurred())
				var id int64
				Expect(db.Pool().QueryRow(ctx, "SELECT id FROM accounts").Scan(&id)).To(Succeed())
				Expect(id).To(Equal(int64(1)), "identity sequences start over in every spec")
				Expect(count(ctx, db, "accounts")).To(Equal(1))
			})
		}
	})

	Describe("every node of a spec", decorators.FreshDatabase(), func() {
		var seen []string
		BeforeEach(func(ctx SpecContext) { seen = []string{pgginkgo.DB(ctx).Name()} })
		JustBeforeEach(func(ctx SpecContext) { seen = append(seen, pgginkgo.DB(ctx).Name()) })
		AfterEach(func(ctx SpecContext) {
			seen = append(seen, pgginkgo.DB(ctx).Name(), pgginkgo.CurrentDB().Name())
			Expect(seen).To(HaveEach(seen[0]))
			Expect(seen).To(HaveLen(5))
		})
		It("sees the same database", func(ctx SpecContext) {
			seen = append(seen, pgginkgo.DB(ctx).Name())
			DeferCleanup(func(ctx SpecContext) { Expect(pgginkgo.DB(ctx).Name()).To(Equal(seen[0])) })
		})
	})

	Describe("an Ordered container", Ordered, decorators.FreshDatabase(pgginkgo.FromTemplate("seeded")), func() {
		var first string
		It("starts from the seeded template", func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			first = db.Name()
			Expect(db.TemplateName()).To(Equal("seeded"))
			Expect(count(ctx, db, "accounts")).To(Equal(2))
			_, err := db.Pool().Exec(ctx, "INSERT INTO transfers (from_id, to_id, amount) VALUES (1, 2, 10)")
			Expect(err).NotTo(HaveOccurred())
		})
		It("shares one database across its specs, in order", func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			Expect(db.Name()).To(Equal(first))
			Expect(count(ctx, db, "transfers")).To(Equal(1))
		})
	})

	Describe("retries", decorators.FreshDatabase(), func() {
		var names []string
		It("gives each FlakeAttempts attempt a fresh database", FlakeAttempts(3), func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			names = append(names, db.Name())
			Expect(count(ctx, db, "accounts")).To(Equal(0))
			_, err := db.Pool().Exec(ctx, "INSERT INTO accounts (email) VALUES ('flaky@example.com')")
			Expect(err).NotTo(HaveOccurred())
			if len(names) < 2 {
				Fail("failing the first attempt on purpose")
			}
			Expect(names[0]).NotTo(Equal(names[1]))
		})
		var repeats []string
		It("gives each MustPassRepeatedly attempt a fresh database", MustPassRepeatedly(3), func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			repeats = append(repeats, db.Name())
			Expect(count(ctx, db, "accounts")).To(Equal(0))
			_, err := db.Pool().Exec(ctx, "INSERT INTO accounts (email) VALUES ('again@example.com')")
			Expect(err).NotTo(HaveOccurred())
		})
	})

	It("composes with Label and Serial and exposes URL and database/sql", Label("db"), Serial, decorators.FreshDatabase(), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		Expect(db.URL()).To(ContainSubstring("/" + db.Name() + "?"))
		Expect(db.URL()).To(ContainSubstring("passfile="))
		var name string
		Expect(db.SQL().QueryRowContext(ctx, "SELECT current_database()").Scan(&name)).To(Succeed())
		Expect(name).To(Equal(db.Name()))
		Expect(CurrentSpecReport().Labels()).To(ContainElement("db"))
	})

	It("hands on no database whose schema a spec changed", decorators.FreshDatabase(), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		_, err := db.Pool().Exec(ctx, "CREATE TABLE scratch (x int)")
		Expect(err).NotTo(HaveOccurred())
		// The next specs on this process assert no scratch table exists.
	})

	Describe("after DDL elsewhere", decorators.FreshDatabase(), func() {
		for i := range 4 {
			It(fmt.Sprintf("sees no table another spec created (%d)", i), func(ctx SpecContext) {
				var n int
				Expect(pgginkgo.DB(ctx).Pool().QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'scratch'").Scan(&n)).To(Succeed())
				Expect(n).To(BeZero())
			})
		}
	})
})

// A FreshDatabase made outside the tree, stored in a variable and used in
// several places.
var seededDatabase = decorators.FreshDatabase(pgginkgo.FromTemplate("seeded"))

var _ = Describe("FreshDatabase placements that work", func() {
	Describe("an Ordered container with Contexts", Ordered, decorators.FreshDatabase(), func() {
		var name string
		BeforeAll(func(ctx SpecContext) {
			name = pgginkgo.DB(ctx).Name()
			_, err := pgginkgo.DB(ctx).Pool().Exec(ctx, "INSERT INTO accounts (email) VALUES ('before-all@example.com')")
			Expect(err).NotTo(HaveOccurred())
		})
		Context("first", func() {
			It("sees what BeforeAll wrote", func(ctx SpecContext) {
				Expect(pgginkgo.DB(ctx).Name()).To(Equal(name))
				Expect(count(ctx, pgginkgo.DB(ctx), "accounts")).To(Equal(1))
			})
		})
		Context("second", func() {
			It("shares the one database across the Contexts", func(ctx SpecContext) {
				Expect(pgginkgo.CurrentDB().Name()).To(Equal(name))
				Expect(count(ctx, pgginkgo.DB(ctx), "accounts")).To(Equal(1))
			})
		})
		AfterAll(func(ctx SpecContext) {
			Expect(pgginkgo.DB(ctx).Name()).To(Equal(name))
		})
	})

	Describe("an Ordered container with FreshDatabase on its Its", Ordered, func() {
		It("gives the first It a database of its own", decorators.FreshDatabase(), func(ctx SpecContext) {
			_, err := pgginkgo.DB(ctx).Pool().Exec(ctx, "INSERT INTO accounts (email) VALUES ('first@example.com')")
			Expect(err).NotTo(HaveOccurred())
		})
		It("and the next a fresh one", decorators.FreshDatabase(), func(ctx SpecContext) {
			Expect(count(ctx, pgginkgo.DB(ctx), "accounts")).To(BeZero())
		})
	})

	It("on an It: the It and its DeferCleanup see one database", decorators.FreshDatabase(), func(ctx SpecContext) {
		name := pgginkgo.DB(ctx).Name()
		DeferCleanup(func(ctx SpecContext) {
			Expect(pgginkgo.DB(ctx).Name()).To(Equal(name))
			Expect(pgginkgo.CurrentDB().Name()).To(Equal(name))
		})
	})

	It("from a variable, on one It", seededDatabase, func(ctx SpecContext) {
		Expect(pgginkgo.DB(ctx).TemplateName()).To(Equal("seeded"))
		Expect(count(ctx, pgginkgo.DB(ctx), "accounts")).To(Equal(2))
	})
	It("from the same variable, on another", seededDatabase, func(ctx SpecContext) {
		Expect(count(ctx, pgginkgo.DB(ctx), "accounts")).To(Equal(2), "a database of its own, not the previous spec's")
		_, err := pgginkgo.DB(ctx).Pool().Exec(ctx, "DELETE FROM accounts")
		Expect(err).NotTo(HaveOccurred())
	})
})
