package goosemigrator_test

import (
	"os"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/pressly/goose/v3"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/migrators/internal/migtest"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

var _ = Describe("the template goose builds", func() {
	It("records every SQL migration in goose_db_version", decorators.FreshDatabase(pgginkgo.FromTemplate("goose")), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		// goose inserts version 0 when it creates its table.
		Expect(appliedVersions(ctx, db, "goose_db_version")).To(Equal([]int64{0, 1, 2, 4, 5, 6}))
		Expect(db).To(gsql.HaveTable("order_items"))
		Expect(db).To(gsql.HaveRowCount("products", 0))
	})

	It("runs the Go migrations in version order among the SQL ones", decorators.FreshDatabase(pgginkgo.FromTemplate("goose_go")), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		Expect(appliedVersions(ctx, db, "goose_db_version")).To(Equal([]int64{0, 1, 2, 3, 4, 5, 6, 7, 8}))
		Expect(db).To(gsql.HaveRowCount("products", 3))
		Expect(db).To(gsql.HaveRow("products", gsql.Columns{"sku": "ROC-2", "price_cents": 12900}))
		Expect(db).To(gsql.HaveTable("product_tags"))
		var valid bool
		Expect(db.Pool().QueryRow(ctx, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'product_tags_tag_idx'::regclass`).Scan(&valid)).To(Succeed())
		Expect(valid).To(BeTrue())
	})

	It("keeps the $$ bodies whole and fires the trigger", decorators.FreshDatabase(pgginkgo.FromTemplate("goose")), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		_, err := db.Pool().Exec(ctx, `
			INSERT INTO customers (email, name) VALUES ('ann@example.com', 'Ann');
			INSERT INTO products (sku, name, price_cents) VALUES ('A', 'a', 300), ('B', 'b', 50);
			INSERT INTO orders (customer_id) SELECT id FROM customers;
			INSERT INTO order_items (order_id, product_id, quantity, unit_cents)
			     SELECT o.id, p.id, 2, p.price_cents FROM orders o, products p;`)
		Expect(err).NotTo(HaveOccurred())
		Expect(db).To(gsql.HaveRow("orders", gsql.Columns{"total_cents": 700}))
		Expect(db).To(gsql.HaveRow("customer_summary", gsql.Columns{"email": "ann@example.com", "orders": 1, "spent_cents": 700}))
	})

	It("builds the NO TRANSACTION file's index concurrently, and valid", decorators.FreshDatabase(pgginkgo.FromTemplate("goose")), func(ctx SpecContext) {
		var valid bool
		err := pgginkgo.DB(ctx).Pool().QueryRow(ctx,
			`SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_status_placed_at_idx'::regclass`).Scan(&valid)
		Expect(err).NotTo(HaveOccurred())
		Expect(valid).To(BeTrue())
	})

	It("records the versions in the table TableName names", decorators.FreshDatabase(pgginkgo.FromTemplate("goose_table")), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		Expect(appliedVersions(ctx, db, "schema_versions")).To(Equal([]int64{0, 1, 2, 4, 5, 6}))
		Expect(db).NotTo(gsql.HaveTable("goose_db_version"))
	})

	It("matches a .go file in the directory to its registered Go migration and ignores the others", decorators.FreshDatabase(pgginkgo.FromTemplate("goose_gofile")), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		Expect(appliedVersions(ctx, db, "goose_db_version")).To(Equal([]int64{0, 1, 2}))
		Expect(db).To(gsql.HaveRowCount("widgets", 2))
	})

	It("has the schema pgginkgo.SQLDir builds from the same directory", func(ctx SpecContext) {
		tool, err := pgginkgo.Cluster().TemplateSchema(ctx, "goose", "goose_db_version*")
		Expect(err).NotTo(HaveOccurred())
		files, err := pgginkgo.Cluster().TemplateSchema(ctx, "sqldir", "goose_db_version*")
		Expect(err).NotTo(HaveOccurred())
		Expect(tool).To(ContainSubstring("CREATE VIEW public.customer_summary"))
		Expect(files).To(Equal(tool))
	})
})

var _ = Describe("goose's own Up on a clone", func() {
	It("finds nothing to apply, Go migrations included, and changes nothing", decorators.FreshDatabase(pgginkgo.FromTemplate("goose_go")), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		before := migtest.Schema(ctx, db)
		versions := appliedVersions(ctx, db, "goose_db_version")

		// What the application does at start.
		provider, err := goose.NewProvider(goose.DialectPostgres, db.SQL(), os.DirFS(migrationsDir),
			goose.WithGoMigrations(goMigrations()...))
		Expect(err).NotTo(HaveOccurred())
		Expect(provider.HasPending(ctx)).To(BeFalse())
		current, target, err := provider.GetVersions(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(current).To(Equal(int64(8)))
		Expect(target).To(Equal(int64(8)))
		results, err := provider.Up(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(results).To(BeEmpty())

		Expect(appliedVersions(ctx, db, "goose_db_version")).To(Equal(versions))
		Expect(db).To(gsql.HaveRowCount("products", 3))
		Expect(migtest.Schema(ctx, db)).To(Equal(before))
	})

	It("finds nothing to apply in the table TableName names", decorators.FreshDatabase(pgginkgo.FromTemplate("goose_table")), func(ctx SpecContext) {
		provider, err := goose.NewProvider(goose.DialectPostgres, pgginkgo.DB(ctx).SQL(), os.DirFS(migrationsDir),
			goose.WithTableName("schema_versions"))
		Expect(err).NotTo(HaveOccurred())
		Expect(provider.HasPending(ctx)).To(BeFalse())
		results, err := provider.Up(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(results).To(BeEmpty())
	})
})
