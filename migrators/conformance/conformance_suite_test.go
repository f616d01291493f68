// Package conformance_test proves that pgginkgo.SQLDir, the zero-config
// reader of migration directories, builds the same schema as the real tools
// for the formats that get no adapter of their own: sql-migrate
// (github.com/rubenv/sql-migrate) and Atlas (ariga.io/atlas). It is a
// test-only module, so that neither tool ever becomes a dependency of
// pgginkgo itself.
//
// For each format, testdata/<format> holds a realistic migration directory
// (an enum, tables with foreign keys, indexes, a view, PL/pgSQL functions
// whose $$ bodies hold semicolons, a trigger, and a file the tool runs outside
// a transaction with CREATE INDEX CONCURRENTLY). The suite builds two
// templates from it:
//
//   - "tool-<format>": the real tool's Go library applies the directory
//     (through pgginkgo.MigrateFunc), as the app would at start, and leaves
//     its bookkeeping table behind;
//   - "sqldir-<format>": pgginkgo.SQLDir applies the same directory.
//
// The specs then check that the tool really did its work (its bookkeeping
// rows, the schema's visible behavior, nothing left to apply on a second
// run) and that the two templates dump to the same schema, the tool's
// bookkeeping table aside.
//
// A template whose build fails fails the whole suite, so the SQLDir side is
// wrapped: when SQLDir returns an error, the template gets a schema named
// conformance_sqldir_failed whose comment holds that error, and the specs
// comparing it with the tool fail with the error in view instead of taking
// every other spec down with them.
//
// Run it with:
//
//	cd migrators/conformance && go test -count=1 ./...
package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/migrators/internal/adapter"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "migration directory conformance")
}

const (
	sqlMigrateDir = "testdata/sqlmigrate"
	atlasDir      = "testdata/atlas"
)

var _ = pgginkgo.Suite(
	pgginkgo.DefineTemplate("sqldir-sqlmigrate", sqlDirOrFailureMark(sqlMigrateDir)),
	pgginkgo.DefineTemplate("tool-sqlmigrate", pgginkgo.MigrateFunc(
		toolVersion("sql-migrate", "github.com/rubenv/sql-migrate", migrateSQL, sqlMigrateDir),
		sqlMigrateTemplate(sqlMigrateDir))),
	pgginkgo.DefineTemplate("sqldir-atlas", sqlDirOrFailureMark(atlasDir)),
	pgginkgo.DefineTemplate("tool-atlas", pgginkgo.MigrateFunc(
		toolVersion("atlas", "ariga.io/atlas", atlasExecutor, atlasDir),
		atlasTemplate(atlasDir))),
)

// toolVersion names what a tool template's MigrateFunc applies: the
// function (bump the "v1" when it changes), the tool's version and the
// directory's files, so that editing a migration or upgrading the tool
// builds a new template instead of booting the migrated image of the old
// one. fromTool is a function of the tool's module, where
// adapter.ToolVersion reads its version.
func toolVersion(name, module string, fromTool any, dir string) string {
	digest, err := adapter.FilesDigest(os.DirFS(dir))
	if err != nil {
		// The tool fails on the same directory and says why.
		digest = "unreadable: " + err.Error()
	}
	return fmt.Sprintf("conformance-%s-v1 %s@%s %s", name, module, adapter.ToolVersion(module, fromTool), digest)
}

// sqlDirFailureSchema is the schema a sqlDirOrFailureMark template gets when
// pgginkgo.SQLDir could not build it; its comment holds SQLDir's error.
const sqlDirFailureSchema = "conformance_sqldir_failed"

// failureMarkedSQLDir is pgginkgo.SQLDir on a directory, except that an
// error from SQLDir is written into the template (see the package comment)
// instead of failing the suite.
type failureMarkedSQLDir struct{ dir pgginkgo.Migrator }

func sqlDirOrFailureMark(dir string) pgginkgo.Migrator {
	return failureMarkedSQLDir{dir: pgginkgo.SQLDir(os.DirFS(dir))}
}

func (m failureMarkedSQLDir) Fingerprint(ctx context.Context) (string, error) {
	fp, err := m.dir.Fingerprint(ctx)
	if err != nil {
		// Migrate reports it; failing here would stop the whole suite.
		return "sqldir-fingerprint-failed " + err.Error(), nil
	}
	return "failure-marked " + fp, nil
}

func (m failureMarkedSQLDir) Migrate(ctx context.Context, conn *pgx.Conn) error {
	err := func() error {
		if _, err := m.dir.Fingerprint(ctx); err != nil {
			return fmt.Errorf("Fingerprint: %w", err)
		}
		return m.dir.Migrate(ctx, conn)
	}()
	if err == nil {
		return nil
	}
	comment := "pgginkgo.SQLDir failed: " + err.Error()
	_, markErr := conn.Exec(ctx, fmt.Sprintf("CREATE SCHEMA %s; COMMENT ON SCHEMA %s IS '%s'",
		sqlDirFailureSchema, sqlDirFailureSchema, strings.ReplaceAll(comment, "'", "''")))
	if markErr != nil {
		return errors.Join(err, fmt.Errorf("recording the failure in the template: %w", markErr))
	}
	return nil
}

// migrationFiles lists the .sql files of dir: every one is a migration for
// both tools, so each leaves one bookkeeping row per file.
func migrationFiles(dir string) []string {
	names, err := fs.Glob(os.DirFS(dir), "*.sql")
	Expect(err).NotTo(HaveOccurred())
	Expect(names).NotTo(BeEmpty(), "no migrations in %s", dir)
	return names
}

// The comparison itself, for each format: SQLDir's template must build, and
// dump to exactly the tool's schema once the tool's bookkeeping is set aside.
var _ = Describe("pgginkgo.SQLDir", func() {
	sameSchemaAsTool("sqlmigrate", "sql-migrate", "gorp_migrations*")
	sameSchemaAsTool("atlas", "atlas migrate apply", "atlas_schema_revisions*")
})

func sameSchemaAsTool(format, tool string, bookkeeping ...string) {
	Context("on testdata/"+format, func() {
		It("builds the template without an error",
			decorators.FreshDatabase(pgginkgo.FromTemplate("sqldir-"+format)), func(ctx SpecContext) {
				rows, err := pgginkgo.DB(ctx).Pool().Query(ctx,
					`SELECT coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname = $1`,
					sqlDirFailureSchema)
				Expect(err).NotTo(HaveOccurred())
				failures, err := pgx.CollectRows(rows, pgx.RowTo[string])
				Expect(err).NotTo(HaveOccurred())
				Expect(failures).To(BeEmpty(), "the template records SQLDir's error in schema %s", sqlDirFailureSchema)
			})

		It("builds the same schema as "+tool, func(ctx SpecContext) {
			want, err := pgginkgo.Cluster().TemplateSchema(ctx, "tool-"+format, bookkeeping...)
			Expect(err).NotTo(HaveOccurred())
			// Guards against an empty-equals-empty pass: the tool's side
			// holds the schema (its behavior is checked in the tool's specs).
			Expect(want).To(And(
				ContainSubstring("CREATE FUNCTION public.order_total"),
				ContainSubstring("CREATE INDEX orders_status_created_at_idx"),
				ContainSubstring("CREATE VIEW public.customer_order_totals"),
			))
			Expect(want).NotTo(ContainSubstring(strings.TrimSuffix(bookkeeping[0], "*")),
				"the tool's bookkeeping table is excluded from the comparison")

			got, err := pgginkgo.Cluster().TemplateSchema(ctx, "sqldir-"+format, bookkeeping...)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want), func() string {
				return fmt.Sprintf("pgginkgo.SQLDir(testdata/%s) differs from %s (-%s +SQLDir):\n%s",
					format, tool, tool, cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")))
			})
		})
	})
}

// The schema's behavior, checked on the tool's templates: the enum, the
// foreign keys, the view, the function with its PL/pgSQL body, the trigger
// and the index built concurrently outside a transaction all work.
var _ = Describe("the testdata schema, as the tools build it", func() {
	for _, format := range []string{"sqlmigrate", "atlas"} {
		It("works on tool-"+format,
			decorators.FreshDatabase(pgginkgo.FromTemplate("tool-"+format)), func(ctx SpecContext) {
				expectWorkingSchema(ctx, pgginkgo.DB(ctx).Pool())
			})
	}
})

func expectWorkingSchema(ctx context.Context, db interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) {
	var customer, order int64
	Expect(db.QueryRow(ctx, `INSERT INTO customers (email, name, updated_at)
		VALUES ('ann@example.com', 'Ann', now() - interval '1 day') RETURNING id`).Scan(&customer)).To(Succeed())
	Expect(db.QueryRow(ctx, `INSERT INTO orders (customer_id) VALUES ($1) RETURNING id`, customer).Scan(&order)).To(Succeed())
	var status string
	Expect(db.QueryRow(ctx, `WITH items AS (
			INSERT INTO order_items (order_id, sku, quantity, unit_price)
			VALUES ($1, 'tea', 2, 9.50), ($1, 'cup', 1, 3.25) RETURNING order_id)
		SELECT status::text FROM orders WHERE id = $1`, order).Scan(&status)).To(Succeed())
	Expect(status).To(Equal("pending"), "orders.status defaults to the enum's first state")

	// The PL/pgSQL function, and the view over the same rows.
	var total, spent string
	Expect(db.QueryRow(ctx, `SELECT order_total($1)::text`, order).Scan(&total)).To(Succeed())
	Expect(total).To(Equal("22.25"))
	Expect(db.QueryRow(ctx, `SELECT spent::text FROM customer_order_totals WHERE customer_id = $1`, customer).Scan(&spent)).To(Succeed())
	Expect(spent).To(Equal("22.25"))

	// The enum refuses an unknown state; the foreign key an unknown customer.
	Expect(db.QueryRow(ctx, `UPDATE orders SET status = 'lost' WHERE id = $1 RETURNING id`, order).Scan(new(int64))).
		To(MatchError(ContainSubstring("invalid input value for enum order_status")))
	Expect(db.QueryRow(ctx, `INSERT INTO orders (customer_id) VALUES (-1) RETURNING id`).Scan(new(int64))).
		To(MatchError(ContainSubstring("orders_customer_id_fkey")))

	// The trigger moves updated_at to now.
	var touched bool
	Expect(db.QueryRow(ctx, `UPDATE customers SET name = 'Ann B' WHERE id = $1
		RETURNING updated_at > now() - interval '1 minute'`, customer).Scan(&touched)).To(Succeed())
	Expect(touched).To(BeTrue(), "customers_touch_updated_at sets updated_at")

	// The index built with CREATE INDEX CONCURRENTLY exists and is valid,
	// which it is only if it ran, and ran outside a transaction.
	var valid bool
	Expect(db.QueryRow(ctx, `SELECT indisvalid FROM pg_index
		WHERE indexrelid = 'public.orders_status_created_at_idx'::regclass`).Scan(&valid)).To(Succeed())
	Expect(valid).To(BeTrue())
}
