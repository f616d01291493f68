package golangmigrator_test

import (
	"context"
	"testing/fstest"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	golangmigrator "github.com/pgginkgo/pgginkgo/migrators/golangmigrate"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func migrationFS() fstest.MapFS {
	return fstest.MapFS{
		"1_users.up.sql":    file("CREATE TABLE users (id int PRIMARY KEY);\n"),
		"1_users.down.sql":  file("DROP TABLE users;\n"),
		"2_orders.up.sql":   file("CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users);\n"),
		"2_orders.down.sql": file("DROP TABLE orders;\n"),
	}
}

func fingerprint(m pgginkgo.Migrator) string {
	GinkgoHelper()
	fp, err := m.Fingerprint(context.Background())
	Expect(err).NotTo(HaveOccurred())
	Expect(fp).To(HavePrefix("golang-migrate:v4.20.1:"))
	return fp
}

var _ = Describe("Fingerprint", func() {
	It("is the same for the same files", func() {
		Expect(fingerprint(golangmigrator.New(migrationFS()))).To(Equal(fingerprint(golangmigrator.New(migrationFS()))))
	})

	It("changes when a migration is edited, added or renamed", func() {
		base := fingerprint(golangmigrator.New(migrationFS()))

		edited := migrationFS()
		edited["2_orders.up.sql"] = file("CREATE TABLE orders (id bigint PRIMARY KEY);\n")
		Expect(fingerprint(golangmigrator.New(edited))).NotTo(Equal(base))

		added := migrationFS()
		added["3_index.up.sql"] = file("CREATE INDEX ON orders (user_id);\n")
		Expect(fingerprint(golangmigrator.New(added))).NotTo(Equal(base))

		renamed := migrationFS()
		renamed["20_orders.up.sql"] = renamed["2_orders.up.sql"]
		delete(renamed, "2_orders.up.sql")
		Expect(fingerprint(golangmigrator.New(renamed))).NotTo(Equal(base))
	})

	It("changes with the migrations table", func() {
		Expect(fingerprint(golangmigrator.New(migrationFS(), golangmigrator.MigrationsTable("versions")))).
			NotTo(Equal(fingerprint(golangmigrator.New(migrationFS()))))
	})
})
