package conformance_test

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	migrate "github.com/rubenv/sql-migrate"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/migrators/internal/adapter"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// sqlMigrateSource is the directory as app code hands it to sql-migrate.
func sqlMigrateSource(dir string) migrate.MigrationSource {
	return migrate.HttpFileSystemMigrationSource{FileSystem: http.FS(os.DirFS(dir))}
}

// sqlMigrateTemplate applies dir with sql-migrate's own Up, the call app
// code makes at start: numeric order, one transaction per migration unless
// its Up says notransaction, a row per migration in gorp_migrations.
func sqlMigrateTemplate(dir string) func(ctx context.Context, conn *pgx.Conn) error {
	return func(ctx context.Context, conn *pgx.Conn) error {
		db := adapter.SQLDB(conn)
		defer db.Close()
		if _, err := migrate.ExecContext(ctx, db, "postgres", sqlMigrateSource(dir), migrate.Up); err != nil {
			return fmt.Errorf("sql-migrate Up on %s: %w", dir, err)
		}
		return db.Close()
	}
}

// migrateSQL is the sql-migrate function the tool template runs, and where
// toolVersion reads sql-migrate's version.
var migrateSQL = migrate.ExecContext

var _ = Describe("sql-migrate's template", decorators.FreshDatabase(pgginkgo.FromTemplate("tool-sqlmigrate")), func() {
	It("records every migration in gorp_migrations", func(ctx SpecContext) {
		records, err := migrate.GetMigrationRecords(pgginkgo.DB(ctx).SQL(), "postgres")
		Expect(err).NotTo(HaveOccurred())
		ids := make([]string, len(records))
		for i, r := range records {
			ids[i] = r.Id
			Expect(r.AppliedAt).NotTo(BeZero())
		}
		files := migrationFiles(sqlMigrateDir)
		Expect(ids).To(HaveLen(len(files)))
		Expect(ids).To(ConsistOf(files))
	})

	It("applies the migrations in sql-migrate's numeric order", func(ctx SpecContext) {
		migrations, err := sqlMigrateSource(sqlMigrateDir).FindMigrations()
		Expect(err).NotTo(HaveOccurred())
		ids := make([]string, len(migrations))
		for i, m := range migrations {
			ids[i] = m.Id
		}
		Expect(ids).To(Equal([]string{"1_init.sql", "2_orders.sql", "3_functions.sql", "10_orders_status_index.sql"}))
		Expect(migrations[3].DisableTransactionUp).To(BeTrue(), "10_ says '-- +migrate Up notransaction'")
	})

	It("leaves nothing for the app's own migrate.Exec Up at start", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx).SQL()
		planned, _, err := migrate.PlanMigration(db, "postgres", sqlMigrateSource(sqlMigrateDir), migrate.Up, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(planned).To(BeEmpty())
		n, err := migrate.Exec(db, "postgres", sqlMigrateSource(sqlMigrateDir), migrate.Up)
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(BeZero())
	})
})
