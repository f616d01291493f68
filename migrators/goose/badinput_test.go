package goosemigrator_test

import (
	"context"
	"os"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/pressly/goose/v3"

	goosemigrator "github.com/pgginkgo/pgginkgo/migrators/goose"
	"github.com/pgginkgo/pgginkgo/migrators/internal/migtest"
)

func fingerprintErr(fsys fstest.MapFS, opts ...goosemigrator.Option) error {
	GinkgoHelper()
	var m = goosemigrator.New(fsys, opts...)
	if fsys == nil {
		m = goosemigrator.New(nil, opts...)
	}
	_, err := m.Fingerprint(context.Background())
	Expect(err).To(HaveOccurred())
	return err
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

var _ = Describe("bad input", func() {
	Context("found by Fingerprint, before the cluster starts", func() {
		It("reports a nil fs.FS", func() {
			Expect(fingerprintErr(nil)).To(MatchError(ContainSubstring(`the migrations fs.FS is nil; pass os.DirFS("path/to/migrations")`)))
		})

		It("reports an empty directory", func() {
			Expect(fingerprintErr(fstest.MapFS{})).To(MatchError(ContainSubstring("the migrations directory holds no files")))
		})

		It("reports a directory without goose migrations, with the naming goose wants", func() {
			err := fingerprintErr(fstest.MapFS{"README.md": file("docs"), "create_users.sql": file("-- +goose Up\nSELECT 1;\n")})
			Expect(err).To(MatchError(goose.ErrNoMigrations))
			Expect(err).To(MatchError(ContainSubstring("goose reads NUMBER_name.sql files (00001_create_users.sql")))
		})

		It("reports two files with the same version", func() {
			err := fingerprintErr(fstest.MapFS{"00001_a.sql": file("-- +goose Up\nSELECT 1;\n"), "001_b.sql": file("-- +goose Up\nSELECT 1;\n")})
			Expect(err).To(MatchError(And(ContainSubstring("found duplicate migration version 1"), ContainSubstring("00001_a.sql"), ContainSubstring("001_b.sql"))))
		})

		It("reports a Go migration file nobody registered, and how to register it", func() {
			fsys := migrationFS()
			fsys["00003_seed.go"] = file("package migrations\n")
			err := fingerprintErr(fsys)
			Expect(err).To(MatchError(And(
				ContainSubstring("detected 1 unregistered Go file"),
				ContainSubstring("00003_seed.go"),
				ContainSubstring("goosemigrator.GoMigrations(revision, goose.NewGoMigration(version"))))
		})

		It("reports a Go migration whose version a SQL file has", func() {
			err := fingerprintErr(migrationFS(), goosemigrator.GoMigrations("v1", goose.NewGoMigration(2, &goose.GoFunc{RunTx: noop}, nil)))
			Expect(err).To(MatchError(ContainSubstring("found duplicate migration version 2")))
		})

		It("reports a Go migration not built with goose.NewGoMigration", func() {
			err := fingerprintErr(migrationFS(), goosemigrator.GoMigrations("v1", &goose.Migration{Version: 3}))
			Expect(err).To(MatchError(ContainSubstring("must use NewGoMigration to construct migrations")))
		})

		It("reports mistakes in the options", func() {
			Expect(fingerprintErr(migrationFS(), goosemigrator.GoMigrations("", goose.NewGoMigration(3, nil, nil)))).
				To(MatchError(ContainSubstring("GoMigrations: the revision is empty")))
			Expect(fingerprintErr(migrationFS(), goosemigrator.GoMigrations("v1"))).
				To(MatchError(ContainSubstring(`GoMigrations("v1"): no migrations given`)))
			Expect(fingerprintErr(migrationFS(), goosemigrator.GoMigrations("v1", nil))).
				To(MatchError(ContainSubstring(`GoMigrations("v1"): migration 1 is nil`)))
			Expect(fingerprintErr(migrationFS(), goosemigrator.TableName(""))).
				To(MatchError(ContainSubstring("TableName: the table name is empty")))
		})

		It("accepts the testdata directory", func() {
			_, err := goosemigrator.New(os.DirFS(migrationsDir)).Fingerprint(context.Background())
			Expect(err).NotTo(HaveOccurred())
		})
	})

	// goose parses a SQL file only when it applies it, so these surface in
	// Migrate, as the template build would report them.
	Context("found by Migrate", func() {
		migrate := func(ctx context.Context, fsys fstest.MapFS) error {
			GinkgoHelper()
			m := goosemigrator.New(fsys)
			_, err := m.Fingerprint(ctx)
			Expect(err).NotTo(HaveOccurred())
			var merr error
			migtest.WithScratchDatabase(ctx, func(conn *pgx.Conn) { merr = m.Migrate(ctx, conn) })
			Expect(merr).To(HaveOccurred())
			return merr
		}

		It("reports a file without its -- +goose Up annotation", func(ctx SpecContext) {
			err := migrate(ctx, fstest.MapFS{"00001_users.sql": file("CREATE TABLE users (id int);\n")})
			Expect(err).To(MatchError(And(
				ContainSubstring("00001_users.sql"),
				ContainSubstring(`unexpected state 0 on line "CREATE TABLE users (id int);"`),
				ContainSubstring("fix the migration it names"))))
		})

		It("reports a StatementBegin without its StatementEnd", func(ctx SpecContext) {
			err := migrate(ctx, fstest.MapFS{"00001_fn.sql": file("-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n")})
			Expect(err).To(MatchError(ContainSubstring("missing '-- +goose StatementEnd' annotation")))
		})

		It("reports the failing statement and its version, and applies nothing of that file", func(ctx SpecContext) {
			err := migrate(ctx, fstest.MapFS{
				"00001_users.sql":  file("-- +goose Up\nCREATE TABLE users (id int PRIMARY KEY);\n"),
				"00002_broken.sql": file("-- +goose Up\nCREATE TABLE orders (id int);\nCREATE TABLE orders (id int);\n"),
			})
			Expect(err).To(MatchError(And(
				ContainSubstring("version:2"),
				ContainSubstring(`relation "orders" already exists`))))
		})
	})
})
