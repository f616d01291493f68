package golangmigrator_test

import (
	"context"
	"os"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	golangmigrator "github.com/pgginkgo/pgginkgo/migrators/golangmigrate"
	"github.com/pgginkgo/pgginkgo/migrators/internal/migtest"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func fingerprintErr(m pgginkgo.Migrator) error {
	GinkgoHelper()
	_, err := m.Fingerprint(context.Background())
	Expect(err).To(HaveOccurred())
	return err
}

var _ = Describe("bad input", func() {
	Context("found by Fingerprint, before the cluster starts", func() {
		It("reports a nil fs.FS", func() {
			Expect(fingerprintErr(golangmigrator.New(nil))).To(MatchError(ContainSubstring(`the migrations fs.FS is nil; pass os.DirFS("path/to/migrations")`)))
		})

		It("reports an empty directory", func() {
			Expect(fingerprintErr(golangmigrator.New(fstest.MapFS{}))).To(MatchError(ContainSubstring("the migrations directory holds no files")))
		})

		It("reports a directory without golang-migrate migrations, with the naming it wants", func() {
			err := fingerprintErr(golangmigrator.New(fstest.MapFS{
				"README.md":       file("docs"),
				"1_users.sql":     file("CREATE TABLE users (id int);\n"),
				"sub/1_x.up.sql":  file("SELECT 1;\n"),
				"V1__flyway.sql":  file("SELECT 1;\n"),
				"x_users.up.sql":  file("SELECT 1;\n"),
				"1_users.sql.bak": file("SELECT 1;\n"),
			}))
			Expect(err).To(MatchError(ContainSubstring("golang-migrate found no migrations: it reads VERSION_title.up.sql files (1_create_users.up.sql)")))
		})

		It("reports two up files with the same version", func() {
			fsys := migrationFS()
			fsys["002_orders_again.up.sql"] = file("SELECT 1;\n")
			err := fingerprintErr(golangmigrator.New(fsys))
			Expect(err).To(MatchError(And(
				ContainSubstring("duplicate migration file"),
				ContainSubstring("two files are version 2 up; give each migration its own version"))))
		})

		It("reports an empty table name", func() {
			Expect(fingerprintErr(golangmigrator.New(migrationFS(), golangmigrator.MigrationsTable("")))).
				To(MatchError(ContainSubstring("MigrationsTable: the table name is empty")))
		})

		It("accepts the testdata directories", func() {
			for _, dir := range []string{migrationsDir, unpaddedDir} {
				_, err := golangmigrator.New(os.DirFS(dir)).Fingerprint(context.Background())
				Expect(err).NotTo(HaveOccurred())
			}
		})
	})

	// golang-migrate does not parse SQL: the server finds these, in
	// Migrate, as the template build would report them.
	Context("found by Migrate", func() {
		migrate := func(ctx context.Context, fsys fstest.MapFS) error {
			GinkgoHelper()
			m := golangmigrator.New(fsys)
			_, err := m.Fingerprint(ctx)
			Expect(err).NotTo(HaveOccurred())
			var merr error
			migtest.WithScratchDatabase(ctx, func(conn *pgx.Conn) {
				merr = m.Migrate(ctx, conn)
				// Nothing of the migrate instance is left connected, once
				// the backends it closed have exited (the server ends them
				// after Close returns, as pgginkgo's build waits out).
				Eventually(func(g Gomega) int {
					var sessions int
					g.Expect(conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
						WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&sessions)).To(Succeed())
					return sessions
				}).WithContext(ctx).WithTimeout(5 * time.Second).WithPolling(5 * time.Millisecond).Should(BeZero())
			})
			Expect(merr).To(HaveOccurred())
			return merr
		}

		It("reports the failing statement with its line", func(ctx SpecContext) {
			err := migrate(ctx, fstest.MapFS{
				"1_users.up.sql":  file("CREATE TABLE users (id int PRIMARY KEY);\n"),
				"2_orders.up.sql": file("CREATE TABLE orders (\n    id int PRIMARY KEY,\n    user_id int REFERENCES users,,\n);\n"),
			})
			Expect(err).To(MatchError(And(
				ContainSubstring(`migration failed: syntax error at or near ","`),
				ContainSubstring("in line 3"),
				ContainSubstring("fix the migration"))))
		})

		It("reports CREATE INDEX CONCURRENTLY sharing its file with other statements", func(ctx SpecContext) {
			err := migrate(ctx, fstest.MapFS{
				"1_users.up.sql": file("CREATE TABLE users (id int PRIMARY KEY, email text);\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n"),
			})
			Expect(err).To(MatchError(ContainSubstring("CREATE INDEX CONCURRENTLY cannot run inside a transaction block")))
		})
	})
})
