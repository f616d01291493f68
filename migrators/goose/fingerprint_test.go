package goosemigrator_test

import (
	"context"
	"database/sql"
	"maps"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/pressly/goose/v3"

	"testing/fstest"

	goosemigrator "github.com/pgginkgo/pgginkgo/migrators/goose"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func migrationFS() fstest.MapFS {
	return fstest.MapFS{
		"00001_users.sql":  {Data: []byte("-- +goose Up\nCREATE TABLE users (id int PRIMARY KEY);\n-- +goose Down\nDROP TABLE users;\n")},
		"00002_orders.sql": {Data: []byte("-- +goose Up\nCREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users);\n-- +goose Down\nDROP TABLE orders;\n")},
	}
}

func fingerprint(m pgginkgo.Migrator) string {
	GinkgoHelper()
	fp, err := m.Fingerprint(context.Background())
	Expect(err).NotTo(HaveOccurred())
	Expect(fp).To(HavePrefix("goose:v3.30.0:"))
	return fp
}

func noop(context.Context, *sql.Tx) error { return nil }

var _ = Describe("Fingerprint", func() {
	It("is the same for the same files", func() {
		Expect(fingerprint(goosemigrator.New(migrationFS()))).To(Equal(fingerprint(goosemigrator.New(migrationFS()))))
	})

	It("changes when a migration is edited, added or renamed", func() {
		base := fingerprint(goosemigrator.New(migrationFS()))

		edited := migrationFS()
		edited["00002_orders.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\nCREATE TABLE orders (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE orders;\n")}
		Expect(fingerprint(goosemigrator.New(edited))).NotTo(Equal(base))

		added := migrationFS()
		added["00003_index.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\nCREATE INDEX ON orders (user_id);\n")}
		Expect(fingerprint(goosemigrator.New(added))).NotTo(Equal(base))

		renamed := migrationFS()
		renamed["00003_orders.sql"] = renamed["00002_orders.sql"]
		delete(renamed, "00002_orders.sql")
		Expect(fingerprint(goosemigrator.New(renamed))).NotTo(Equal(base))
	})

	It("changes with the table name", func() {
		Expect(fingerprint(goosemigrator.New(migrationFS(), goosemigrator.TableName("versions")))).
			NotTo(Equal(fingerprint(goosemigrator.New(migrationFS()))))
	})

	It("covers the Go migrations' revision, versions and transaction mode, not the function values", func() {
		with := func(rev string, ms ...*goose.Migration) string {
			return fingerprint(goosemigrator.New(migrationFS(), goosemigrator.GoMigrations(rev, ms...)))
		}
		base := with("v1", goose.NewGoMigration(3, &goose.GoFunc{RunTx: noop}, nil))
		Expect(base).NotTo(Equal(fingerprint(goosemigrator.New(migrationFS()))))
		// Another function with the same revision and version: pgginkgo
		// cannot tell, which is why the revision exists.
		Expect(with("v1", goose.NewGoMigration(3, &goose.GoFunc{RunTx: func(context.Context, *sql.Tx) error { return nil }}, nil))).To(Equal(base))
		Expect(with("v2", goose.NewGoMigration(3, &goose.GoFunc{RunTx: noop}, nil))).NotTo(Equal(base))
		Expect(with("v1", goose.NewGoMigration(4, &goose.GoFunc{RunTx: noop}, nil))).NotTo(Equal(base))
		Expect(with("v1", goose.NewGoMigration(3, &goose.GoFunc{RunDB: func(context.Context, *sql.DB) error { return nil }}, nil))).NotTo(Equal(base))
		Expect(with("v1", goose.NewGoMigration(3, &goose.GoFunc{RunTx: noop}, nil), goose.NewGoMigration(4, &goose.GoFunc{RunTx: noop}, nil))).NotTo(Equal(base))
	})

	It("changes when a .go file next to the SQL changes, though goose does not read it", func() {
		withGo := func(src string) string {
			fsys := maps.Clone(migrationFS())
			fsys["00003_seed.go"] = &fstest.MapFile{Data: []byte(src)}
			return fingerprint(goosemigrator.New(fsys, goosemigrator.GoMigrations("v1", goose.NewGoMigration(3, &goose.GoFunc{RunTx: noop}, nil))))
		}
		Expect(withGo("package migrations // v1")).NotTo(Equal(withGo("package migrations // v2")))
	})
})
