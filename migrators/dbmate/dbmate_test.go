package dbmatemigrator_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"strings"
	"testing/fstest"

	"github.com/amacneil/dbmate/v2/pkg/dbmate"
	_ "github.com/amacneil/dbmate/v2/pkg/driver/postgres"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	dbmatemigrator "github.com/pgginkgo/pgginkgo/migrators/dbmate"
	"github.com/pgginkgo/pgginkgo/migrators/internal/migtest"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// versions are the testdata's migrations, in dbmate's (file-name) order.
var versions = []string{"20240101120000", "20240102090000", "20240103150000", "20240104080000", "2024010412"}

var _ = Describe("a template built by dbmate", func() {
	It("holds dbmate's migrations table with every version, and the schema", decorators.FreshDatabase(pgginkgo.FromTemplate("dbmate")), func(ctx SpecContext) {
		Expect(migtest.QueryStrings(ctx, `SELECT version FROM public.schema_migrations ORDER BY version`)).To(ConsistOf(versions))
		// The transaction:false migration built a valid index, and the
		// migration after it by name (before it by number) commented it.
		Expect(migtest.QueryStrings(ctx, `SELECT obj_description(i.indexrelid, 'pg_class') FROM pg_index i
			WHERE i.indexrelid = 'orders_customer_id_idx'::regclass AND i.indisvalid`)).
			To(Equal([]string{"orders by customer, for the account page"}))
		// The down blocks were not run.
		Expect(migtest.QueryStrings(ctx, `SELECT tgname::text FROM pg_trigger WHERE tgrelid = 'customers'::regclass
			AND NOT tgisinternal AND tgname NOT LIKE 'pgginkgo%'`)).To(Equal([]string{"customers_touch_updated_at"}))
		Expect(migtest.QueryStrings(ctx, `SELECT enum_range(NULL::customer_status)::text`)).To(Equal([]string{"{pending,active,suspended}"}))
		Expect(migtest.QueryStrings(ctx, `SELECT viewname::text FROM pg_views WHERE schemaname = 'public'`)).To(Equal([]string{"order_totals"}))
	})

	It("keeps the migrations table the option names, in a schema dbmate created", decorators.FreshDatabase(pgginkgo.FromTemplate("dbmate_custom")), func(ctx SpecContext) {
		Expect(migtest.QueryStrings(ctx, `SELECT version FROM meta.dbmate_versions`)).To(ConsistOf(versions))
		Expect(migtest.QueryStrings(ctx, `SELECT count(*)::text FROM pg_tables WHERE tablename = 'schema_migrations'`)).To(Equal([]string{"0"}))
	})
})

// appURL is the spec's database as an application hands it to dbmate:
// a postgres:// URL for dbmate's own driver (lib/pq), which reads the
// password from PGPASSFILE, as pgginkgo exports it, and knows no passfile
// parameter.
func appURL(ctx context.Context) *url.URL {
	GinkgoHelper()
	u, err := url.Parse(pgginkgo.DB(ctx).URL())
	Expect(err).NotTo(HaveOccurred())
	q := u.Query()
	q.Del("passfile")
	u.RawQuery = q.Encode()
	return u
}

var _ = Describe("dbmate's own Migrate on a database cloned from the template", func() {
	DescribeTable("finds every migration applied and changes nothing",
		func(ctx SpecContext, table string) {
			// What an application does at start, with dbmate's postgres
			// driver and its own connections.
			var log bytes.Buffer
			db := dbmate.New(appURL(ctx))
			db.FS = os.DirFS("testdata/migrations")
			db.MigrationsDir = []string{"."}
			db.MigrationsTableName = table
			db.AutoDumpSchema = false
			db.Log = &log

			migrations, err := db.FindMigrations()
			Expect(err).NotTo(HaveOccurred())
			var applied []string
			for _, m := range migrations {
				Expect(m.Applied).To(BeTrue(), "%s is not applied", m.FileName)
				applied = append(applied, m.Version)
			}
			Expect(applied).To(Equal(versions))

			before := migtest.Schema(ctx, pgginkgo.DB(ctx))
			Expect(db.Migrate()).To(Succeed())
			Expect(log.String()).NotTo(ContainSubstring("Applying:"))
			Expect(migtest.Schema(ctx, pgginkgo.DB(ctx))).To(Equal(before))
			pending, err := db.Status(true)
			Expect(err).NotTo(HaveOccurred())
			Expect(pending).To(BeZero())
		},
		Entry("the default migrations table", decorators.FreshDatabase(pgginkgo.FromTemplate("dbmate")), dbmatemigrator.DefaultMigrationsTable),
		Entry("a migrations table of its own", decorators.FreshDatabase(pgginkgo.FromTemplate("dbmate_custom")), customTable),
	)
})

func files() fstest.MapFS {
	return fstest.MapFS{
		"20240101000000_users.sql":  {Data: []byte("-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY);\n-- migrate:down\nDROP TABLE users;\n")},
		"20240102000000_orders.sql": {Data: []byte("-- migrate:up\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);\n-- migrate:down\nDROP TABLE orders;\n")},
	}
}

func fingerprint(fsys fstest.MapFS, opts ...dbmatemigrator.Option) string {
	GinkgoHelper()
	fp, err := dbmatemigrator.New(fsys, opts...).Fingerprint(context.Background())
	Expect(err).NotTo(HaveOccurred())
	return fp
}

var _ = Describe("Fingerprint", func() {
	It("names dbmate and its version, and is the same for the same files", func() {
		Expect(fingerprint(files())).To(HavePrefix("dbmate:v2.28.0:"))
		Expect(fingerprint(files())).To(Equal(fingerprint(files())))
	})

	It("changes when a migration or the migrations table changes", func() {
		base := fingerprint(files())
		edited := files()
		edited["20240102000000_orders.sql"] = &fstest.MapFile{Data: []byte("-- migrate:up\nCREATE TABLE orders (id bigint PRIMARY KEY);\n-- migrate:down\n")}
		Expect(fingerprint(edited)).NotTo(Equal(base))
		renamed := files()
		renamed["20240103000000_orders.sql"] = renamed["20240102000000_orders.sql"]
		delete(renamed, "20240102000000_orders.sql")
		Expect(fingerprint(renamed)).NotTo(Equal(base))
		Expect(fingerprint(files(), dbmatemigrator.MigrationsTable("other_migrations"))).NotTo(Equal(base))
	})
})

var _ = Describe("bad input", func() {
	DescribeTable("is refused by Fingerprint, before the cluster starts",
		func(fsys fstest.MapFS, opts []dbmatemigrator.Option, want ...string) {
			var m pgginkgo.Migrator
			if fsys == nil {
				m = dbmatemigrator.New(nil, opts...)
			} else {
				m = dbmatemigrator.New(fsys, opts...)
			}
			_, err := m.Fingerprint(context.Background())
			Expect(err).To(HaveOccurred())
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
		},
		Entry("a nil fs.FS", nil, nil, "dbmate: the migrations fs.FS is nil; pass os.DirFS"),
		Entry("an empty directory", fstest.MapFS{}, nil,
			"dbmate: no migrations in the fs.FS", "like 20240101120000_create_users.sql", "no migration files found"),
		Entry("no file named as dbmate wants", fstest.MapFS{"create_users.sql": {Data: []byte("-- migrate:up\n-- migrate:down\n")}}, nil,
			"dbmate: no migrations in the fs.FS"),
		Entry("a migration without an up block", fstest.MapFS{
			"20240101000000_users.sql": {Data: []byte("CREATE TABLE users (id int);\n")},
		}, nil, "dbmate: migration 20240101000000_users.sql: dbmate requires each migration to define an up block with '-- migrate:up'"),
		Entry("a migration without a down block", fstest.MapFS{
			"20240101000000_users.sql": {Data: []byte("-- migrate:up\nCREATE TABLE users (id int);\n")},
		}, nil, "migration 20240101000000_users.sql: dbmate requires each migration to define a down block"),
		Entry("a statement before the up block", fstest.MapFS{
			"20240101000000_users.sql": {Data: []byte("CREATE TABLE users (id int);\n-- migrate:up\n-- migrate:down\n")},
		}, nil, "dbmate does not support statements preceding the '-- migrate:up' block"),
		Entry("two migrations with one version", fstest.MapFS{
			"001_users.sql":  {Data: []byte("-- migrate:up\nSELECT 1;\n-- migrate:down\n")},
			"001_orders.sql": {Data: []byte("-- migrate:up\nSELECT 2;\n-- migrate:down\n")},
		}, nil, "dbmate: 001_orders.sql and 001_users.sql have the same version 001"),
		Entry("an empty migrations table name", files(), []dbmatemigrator.Option{dbmatemigrator.MigrationsTable("")},
			"dbmate: the migrations table name is empty"),
	)

	It("says which directory is missing", func() {
		_, err := dbmatemigrator.New(os.DirFS("testdata/no-such-dir")).Fingerprint(context.Background())
		Expect(err).To(MatchError(And(
			ContainSubstring("dbmate: listing the migrations: could not find migrations directory"),
			ContainSubstring("check the directory passed to dbmatemigrator.New"))))
	})

	Context("when Migrate runs", decorators.FreshDatabase(pgginkgo.FromTemplate("empty")), func() {
		migrateOn := func(ctx context.Context, m pgginkgo.Migrator) error {
			GinkgoHelper()
			pc, err := pgginkgo.DB(ctx).Pool().Acquire(ctx)
			Expect(err).NotTo(HaveOccurred())
			defer pc.Release()
			return m.Migrate(ctx, pc.Conn())
		}

		It("names the migration whose SQL fails and where, and keeps the ones before it", func(ctx SpecContext) {
			err := migrateOn(ctx, dbmatemigrator.New(fstest.MapFS{
				"001_a.sql": {Data: []byte("-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\n")},
				"002_b.sql": {Data: []byte("-- migrate:up\nCREATE TABLE b (id int);\nCREATE VIEW c AS SELECT missing FROM b;\n-- migrate:down\n")},
			}))
			Expect(err).To(MatchError(And(
				ContainSubstring(`dbmate: migration 002_b.sql: line: 3, column: 25, position: `),
				ContainSubstring(`column "missing" does not exist`),
				ContainSubstring("fix that migration"))))
			Expect(migtest.QueryStrings(ctx, `SELECT version FROM public.schema_migrations`)).To(Equal([]string{"001"}))
			Expect(migtest.QueryStrings(ctx, `SELECT count(*)::text FROM pg_tables WHERE tablename = 'b'`)).To(Equal([]string{"0"}))
		})

		It("runs a transaction:false migration outside a transaction", func(ctx SpecContext) {
			Expect(migrateOn(ctx, dbmatemigrator.New(fstest.MapFS{
				"001_a.sql": {Data: []byte("-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\n")},
				"002_b.sql": {Data: []byte("-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n-- migrate:down\n")},
			}))).To(Succeed())
			Expect(migtest.QueryStrings(ctx, `SELECT version FROM public.schema_migrations ORDER BY 1`)).To(Equal([]string{"001", "002"}))
		})

		It("never puts the password in its errors", func(ctx SpecContext) {
			err := migrateOn(ctx, dbmatemigrator.New(fstest.MapFS{
				"001_a.sql": {Data: []byte("-- migrate:up\nSELEC 1;\n-- migrate:down\n")},
			}))
			Expect(err).To(MatchError(ContainSubstring(`dbmate: migration 001_a.sql: line: 2, column: 1`)))
			pc, aerr := pgginkgo.DB(ctx).Pool().Acquire(ctx)
			Expect(aerr).NotTo(HaveOccurred())
			password := pc.Conn().Config().Password
			pc.Release()
			Expect(password).NotTo(BeEmpty())
			Expect(err.Error()).NotTo(ContainSubstring(password))
			Expect(strings.ToLower(err.Error())).NotTo(ContainSubstring("password"))
		})
	})
})
