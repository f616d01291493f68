package golangmigrator_test

import (
	"os"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/migrators/internal/migtest"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

var _ = Describe("the template golang-migrate builds", func() {
	It("records the last version, clean, in schema_migrations", decorators.FreshDatabase(pgginkgo.FromTemplate("golangmigrate")), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		Expect(versionRows(ctx, db, "schema_migrations")).To(Equal([]string{"5 false"}))
		Expect(db).To(gsql.HaveTable("order_items"))
	})

	It("keeps the $$ bodies whole and fires the trigger", decorators.FreshDatabase(pgginkgo.FromTemplate("golangmigrate")), func(ctx SpecContext) {
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

	It("builds the lone CREATE INDEX CONCURRENTLY, and valid", decorators.FreshDatabase(pgginkgo.FromTemplate("golangmigrate")), func(ctx SpecContext) {
		Expect(indexIsValid(ctx, pgginkgo.DB(ctx), "orders_status_placed_at_idx")).To(BeTrue())
	})

	It("applies 10 after 2, as numbers, not as names", decorators.FreshDatabase(pgginkgo.FromTemplate("unpadded")), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		Expect(versionRows(ctx, db, "schema_migrations")).To(Equal([]string{"10 false"}))
		_, err := db.Pool().Exec(ctx, `INSERT INTO members (id, email, team_id) VALUES (1, 'a@b.c', 99)`)
		Expect(err).To(MatchError(ContainSubstring("members_team_id_fkey")))
	})

	It("records the version in the table MigrationsTable names", decorators.FreshDatabase(pgginkgo.FromTemplate("custom_table")), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		Expect(versionRows(ctx, db, "app_schema_version")).To(Equal([]string{"5 false"}))
		Expect(db).NotTo(gsql.HaveTable("schema_migrations"))
	})

	It("has the schema pgginkgo.SQLDir builds from the same directory", func(ctx SpecContext) {
		tool, err := pgginkgo.Cluster().TemplateSchema(ctx, "golangmigrate", "schema_migrations")
		Expect(err).NotTo(HaveOccurred())
		files, err := pgginkgo.Cluster().TemplateSchema(ctx, "sqldir", "schema_migrations")
		Expect(err).NotTo(HaveOccurred())
		Expect(tool).To(ContainSubstring("CREATE VIEW public.customer_summary"))
		Expect(files).To(Equal(tool))
	})

	It("has the schema pgginkgo.SQLDir builds from 1, 2 and 10", func(ctx SpecContext) {
		tool, err := pgginkgo.Cluster().TemplateSchema(ctx, "unpadded", "schema_migrations")
		Expect(err).NotTo(HaveOccurred())
		files, err := pgginkgo.Cluster().TemplateSchema(ctx, "sqldir_unpadded", "schema_migrations")
		Expect(err).NotTo(HaveOccurred())
		Expect(tool).To(ContainSubstring("members_team_id_fkey"))
		Expect(files).To(Equal(tool))
	})
})

var _ = Describe("golang-migrate's own Up on a clone", func() {
	It("returns ErrNoChange, reports the last version clean, and changes nothing", decorators.FreshDatabase(pgginkgo.FromTemplate("golangmigrate")), func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		before := migtest.Schema(ctx, db)

		// What the application does at start. The migrate instance closes
		// the *sql.DB it is given, so it gets one of its own, not db.SQL().
		sqlDB, err := pgginkgo.Cluster().OpenSQLDB(db.Name())
		Expect(err).NotTo(HaveOccurred())
		drv, err := pgxmigrate.WithInstance(sqlDB, &pgxmigrate.Config{})
		Expect(err).NotTo(HaveOccurred())
		src, err := iofs.New(os.DirFS(migrationsDir), ".")
		Expect(err).NotTo(HaveOccurred())
		m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
		Expect(err).NotTo(HaveOccurred())
		// Closed before the spec ends, when pgginkgo checks that no
		// connection to the spec's database is left open.
		defer func() {
			srcErr, dbErr := m.Close()
			Expect(srcErr).NotTo(HaveOccurred())
			Expect(dbErr).NotTo(HaveOccurred())
		}()

		Expect(m.Up()).To(MatchError(migrate.ErrNoChange))
		version, dirty, err := m.Version()
		Expect(err).NotTo(HaveOccurred())
		Expect(version).To(Equal(uint(5)))
		Expect(dirty).To(BeFalse())

		Expect(versionRows(ctx, db, "schema_migrations")).To(Equal([]string{"5 false"}))
		Expect(migtest.Schema(ctx, db)).To(Equal(before))
	})

	It("returns ErrNoChange through a pgx5:// URL with x-migrations-table", decorators.FreshDatabase(pgginkgo.FromTemplate("custom_table")), func(ctx SpecContext) {
		src, err := iofs.New(os.DirFS(migrationsDir), ".")
		Expect(err).NotTo(HaveOccurred())
		url := strings.Replace(pgginkgo.DB(ctx).URL(), "postgres://", "pgx5://", 1) + "&x-migrations-table=app_schema_version"
		m, err := migrate.NewWithSourceInstance("iofs", src, url)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _, _ = m.Close() }()

		Expect(m.Up()).To(MatchError(migrate.ErrNoChange))
		version, dirty, err := m.Version()
		Expect(err).NotTo(HaveOccurred())
		Expect(version).To(Equal(uint(5)))
		Expect(dirty).To(BeFalse())
	})
})
