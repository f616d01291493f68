package ternmigrator_test

import (
	"context"
	"os"
	"strings"
	"testing/fstest"

	"github.com/jackc/tern/v2/migrate"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/migrators/internal/migtest"
	ternmigrator "github.com/pgginkgo/pgginkgo/migrators/tern"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

var _ = Describe("a template built by tern", func() {
	It("holds tern's version table at the last migration, and the schema", decorators.FreshDatabase(pgginkgo.FromTemplate("tern")), func(ctx SpecContext) {
		Expect(migtest.QueryStrings(ctx, `SELECT version::text FROM public.schema_version`)).To(Equal([]string{"4"}))
		// The disable-tx migration ran outside a transaction: its
		// concurrently built indexes exist and are valid.
		Expect(migtest.QueryStrings(ctx, `SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = 'orders'::regclass AND i.indisvalid AND c.relname <> 'orders_pkey' ORDER BY 1`)).
			To(Equal([]string{"orders_customer_id_idx", "orders_placed_at_idx"}))
		// The down parts were not run.
		Expect(migtest.QueryStrings(ctx, `SELECT tgname::text FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND NOT tgisinternal AND tgname NOT LIKE 'pgginkgo%'`)).
			To(Equal([]string{"customers_touch_updated_at"}))
		Expect(migtest.QueryStrings(ctx, `SELECT enum_range(NULL::customer_status)::text`)).To(Equal([]string{"{pending,active,suspended}"}))
	})

	It("renders tern's templates: shared files, Data, and the VersionTable option", decorators.FreshDatabase(pgginkgo.FromTemplate("tern_templated")), func(ctx SpecContext) {
		Expect(migtest.QueryStrings(ctx, `SELECT version::text FROM public.tern_version`)).To(Equal([]string{"3"}))
		Expect(migtest.QueryStrings(ctx, `SELECT count(*)::text FROM pg_tables WHERE tablename = 'schema_version'`)).To(Equal([]string{"0"}))
		Expect(migtest.QueryStrings(ctx, `SELECT obj_description('accounts'::regclass, 'pg_class')`)).To(Equal([]string{"accounts of the shop"}))
		Expect(migtest.QueryStrings(ctx, `SELECT column_default::text FROM information_schema.columns
			WHERE table_name = 'accounts' AND column_name = 'currency'`)).To(Equal([]string{"'EUR'::bpchar"}))
		Expect(migtest.QueryStrings(ctx, `SELECT table_name || '.' || column_name FROM information_schema.columns
			WHERE column_name IN ('created_at', 'updated_at') ORDER BY 1`)).
			To(Equal([]string{"accounts.created_at", "accounts.updated_at", "invoices.created_at", "invoices.updated_at"}))
		Expect(migtest.QueryStrings(ctx, `SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'invoices'::regclass AND indisvalid AND NOT indisprimary`)).
			To(Equal([]string{"invoices_account_id_idx"}))
	})
})

var _ = Describe("tern's own Migrate on a database cloned from the template", func() {
	DescribeTable("finds every migration applied and changes nothing",
		func(ctx SpecContext, template, dir, table string, data map[string]any) {
			// What an application does at start, on the spec's database.
			pc, err := pgginkgo.DB(ctx).Pool().Acquire(ctx)
			Expect(err).NotTo(HaveOccurred())
			defer pc.Release()
			tm, err := migrate.NewMigrator(ctx, pc.Conn(), table)
			Expect(err).NotTo(HaveOccurred())
			for k, v := range data {
				tm.Data[k] = v
			}
			Expect(tm.LoadMigrations(os.DirFS(dir))).To(Succeed())
			Expect(tm.Migrations).NotTo(BeEmpty())
			current, err := tm.GetCurrentVersion(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(current).To(BeEquivalentTo(len(tm.Migrations)))

			before := migtest.Schema(ctx, pgginkgo.DB(ctx))
			var ran []string
			tm.OnStart = func(_ int32, name, direction, _ string) { ran = append(ran, direction+" "+name) }
			Expect(tm.Migrate(ctx)).To(Succeed())
			Expect(ran).To(BeEmpty())
			after, err := tm.GetCurrentVersion(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(after).To(Equal(current))
			Expect(migtest.Schema(ctx, pgginkgo.DB(ctx))).To(Equal(before))
		},
		Entry("plain migrations", decorators.FreshDatabase(pgginkgo.FromTemplate("tern")),
			"tern", "testdata/plain", ternmigrator.DefaultVersionTable, nil),
		Entry("templates with Data and a version table of their own", decorators.FreshDatabase(pgginkgo.FromTemplate("tern_templated")),
			"tern_templated", "testdata/templated", templatedTable, templateData),
	)
})

// files is a small tern directory with a shared template, to edit.
func files() fstest.MapFS {
	return fstest.MapFS{
		"001_users.sql":   {Data: []byte("CREATE TABLE users (id bigint PRIMARY KEY, {{ template \"shared/cols.sql\" . }});\n---- create above / drop below ----\nDROP TABLE users;\n")},
		"002_orders.sql":  {Data: []byte("CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);\n")},
		"shared/cols.sql": {Data: []byte("name text NOT NULL DEFAULT '{{ .name }}'")},
	}
}

func fingerprint(fsys fstest.MapFS, opts ...ternmigrator.Option) string {
	GinkgoHelper()
	fp, err := ternmigrator.New(fsys, opts...).Fingerprint(context.Background())
	Expect(err).NotTo(HaveOccurred())
	return fp
}

var _ = Describe("Fingerprint", func() {
	It("names tern and its version, and is the same for the same files and options", func() {
		data := ternmigrator.Data(map[string]any{"name": "x", "n": 1})
		Expect(fingerprint(files(), data)).To(HavePrefix("tern:v2.3.4:"))
		Expect(fingerprint(files(), data)).To(Equal(fingerprint(files(), ternmigrator.Data(map[string]any{"n": 1, "name": "x"}))))
		Expect(fingerprint(files())).To(Equal(fingerprint(files(), ternmigrator.Data(map[string]any{}))))
	})

	It("changes when a migration, a shared template, the data or the version table changes", func() {
		base := fingerprint(files())
		seen := map[string]string{"base": base}
		edited := files()
		edited["002_orders.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE orders (id bigint PRIMARY KEY);\n")}
		seen["migration"] = fingerprint(edited)
		edited = files()
		edited["shared/cols.sql"] = &fstest.MapFile{Data: []byte("name text")}
		seen["shared template"] = fingerprint(edited)
		edited = files()
		edited["shared/unused.sql"] = &fstest.MapFile{Data: []byte("-- not used yet")}
		seen["new file"] = fingerprint(edited)
		seen["data"] = fingerprint(files(), ternmigrator.Data(map[string]any{"name": "y"}))
		seen["table"] = fingerprint(files(), ternmigrator.VersionTable("public.other_version"))
		unique := map[string]string{}
		for what, fp := range seen {
			Expect(unique).NotTo(HaveKey(fp), "%s gives the fingerprint of %s", what, unique[fp])
			unique[fp] = what
		}
	})

	It("covers what the templates render, not only the files", func() {
		GinkgoT().Setenv("TERNMIGRATOR_TEST_COLUMN", "a")
		fsys := fstest.MapFS{"001_t.sql": {Data: []byte(`CREATE TABLE t ({{ env "TERNMIGRATOR_TEST_COLUMN" }} int);`)}}
		a := fingerprint(fsys)
		GinkgoT().Setenv("TERNMIGRATOR_TEST_COLUMN", "b")
		Expect(fingerprint(fsys)).NotTo(Equal(a))
	})
})

var _ = Describe("bad input", func() {
	DescribeTable("is refused by Fingerprint, before the cluster starts",
		func(fsys fstest.MapFS, opts []ternmigrator.Option, want ...string) {
			var m pgginkgo.Migrator
			if fsys == nil {
				m = ternmigrator.New(nil, opts...)
			} else {
				m = ternmigrator.New(fsys, opts...)
			}
			_, err := m.Fingerprint(context.Background())
			Expect(err).To(HaveOccurred())
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
		},
		Entry("a nil fs.FS", nil, nil, "tern: the migrations fs.FS is nil; pass os.DirFS"),
		Entry("an empty directory", fstest.MapFS{}, nil, "tern: no migrations in the fs.FS", "named like 001_create_users.sql"),
		Entry("no file named as tern wants", fstest.MapFS{"create_users.sql": {Data: []byte("CREATE TABLE users ();")}}, nil,
			"tern: no migrations in the fs.FS"),
		Entry("a gap in the numbering", fstest.MapFS{
			"001_a.sql": {Data: []byte("CREATE TABLE a ();")},
			"003_c.sql": {Data: []byte("CREATE TABLE c ();")},
		}, nil, "tern: loading the migrations: Missing migration 2", "without gaps or duplicates"),
		Entry("two migrations with one number", fstest.MapFS{
			"001_a.sql": {Data: []byte("CREATE TABLE a ();")},
			"001_b.sql": {Data: []byte("CREATE TABLE b ();")},
		}, nil, "Duplicate migration 1"),
		Entry("a template that does not parse", fstest.MapFS{
			"001_a.sql": {Data: []byte("CREATE TABLE a (id int DEFAULT {{ .n );")},
		}, nil, "tern: loading the migrations: template: 001_a.sql up:1:", "fix the file tern names"),
		Entry("a shared template that does not parse", fstest.MapFS{
			"001_a.sql":    {Data: []byte(`CREATE TABLE a ({{ template "shared/x.sql" . }});`)},
			"shared/x.sql": {Data: []byte("id int {{ if }}")},
		}, nil, "template: shared/x.sql:1:"),
		Entry("a migration with no up part", fstest.MapFS{
			"001_a.sql": {Data: []byte("-- nothing yet\n---- create above / drop below ----\nDROP TABLE a;")},
		}, nil, "has no SQL above its \"---- create above / drop below ----\" line", "no sql in forward migration step"),
		Entry("Data that does not encode to JSON", fstest.MapFS{"001_a.sql": {Data: []byte("SELECT 1;")}},
			[]ternmigrator.Option{ternmigrator.Data(map[string]any{"f": func() {}})}, "tern: the Data option's values must encode to JSON"),
		Entry("an empty version table name", fstest.MapFS{"001_a.sql": {Data: []byte("SELECT 1;")}},
			[]ternmigrator.Option{ternmigrator.VersionTable(" ")}, "tern: the version table name is empty"),
	)

	Context("when Migrate runs", decorators.FreshDatabase(pgginkgo.FromTemplate("empty")), func() {
		migrateOn := func(ctx context.Context, m pgginkgo.Migrator) error {
			GinkgoHelper()
			pc, err := pgginkgo.DB(ctx).Pool().Acquire(ctx)
			Expect(err).NotTo(HaveOccurred())
			defer pc.Release()
			return m.Migrate(ctx, pc.Conn())
		}

		It("names the migration whose SQL fails, and keeps the ones before it", func(ctx SpecContext) {
			err := migrateOn(ctx, ternmigrator.New(fstest.MapFS{
				"001_a.sql": {Data: []byte("CREATE TABLE a (id int);")},
				"002_b.sql": {Data: []byte("CREATE TABLE b (id int REFERENCES missing);")},
			}))
			Expect(err).To(MatchError(And(
				ContainSubstring("tern: migrating: 002_b.sql: ERROR: relation \"missing\" does not exist"),
				ContainSubstring("fix that migration"))))
			Expect(migtest.QueryStrings(ctx, `SELECT version::text FROM public.schema_version`)).To(Equal([]string{"1"}))
		})

		It("says when the version table's schema does not exist", func(ctx SpecContext) {
			err := migrateOn(ctx, ternmigrator.New(fstest.MapFS{"001_a.sql": {Data: []byte("SELECT 1;")}},
				ternmigrator.VersionTable("meta.schema_version")))
			Expect(err).To(MatchError(And(
				ContainSubstring("tern: creating the version table meta.schema_version"),
				ContainSubstring(`schema "meta" does not exist`),
				ContainSubstring("its schema must exist"))))
			Expect(strings.ToLower(err.Error())).NotTo(ContainSubstring("password"))
		})
	})
})
