package pgginkgo_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Start outside Ginkgo: a cluster for a plain Go test or a tool.
func ExampleStart() {
	ctx := context.Background()
	guard, handle, err := pgginkgo.Start(ctx,
		pgginkgo.WithoutEnv(), // leave PG* alone
		pgginkgo.Logger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer guard.Stop()

	pool, err := handle.OpenPool(ctx, "postgres")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	var sum int
	_ = pool.QueryRow(ctx, "SELECT 40 + 2").Scan(&sum)
	fmt.Println(sum)
	// Output: 42
}

// The handle crosses process boundaries as versioned JSON; garbage and
// newer formats are refused with a message that says what to do.
func ExampleDecodeHandle() {
	_, err := pgginkgo.DecodeHandle([]byte(`{"format":2,"host":"127.0.0.1","port":5432,"user":"postgres"}`))
	fmt.Println(err)
	// Output: pgginkgo: decoding handle: unsupported handle format: format 2 is newer than this pgginkgo understands (1); build every process of the suite with the same pgginkgo version
}

// The one line of setup in a suite file, and a spec that uses its own
// database. (Suite registers Ginkgo nodes, so this example only compiles.)
func ExampleSuite() {
	var _ = pgginkgo.Suite(pgginkgo.Migrations(os.DirFS("migrations")))

	var _ = Describe("signup", decorators.FreshDatabase(), func() {
		It("stores the user", func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			_, err := db.Pool().Exec(ctx, `INSERT INTO users (email) VALUES ('a@b.c')`)
			Expect(err).NotTo(HaveOccurred())
		})
	})
}

// Several templates: a spec picks the one it needs.
func ExampleDefineTemplate() {
	var _ = pgginkgo.Suite(
		pgginkgo.DefineTemplate("schema", pgginkgo.SQLDir(os.DirFS("migrations"))),
		pgginkgo.DefineTemplate("seeded", pgginkgo.SQLDir(os.DirFS("migrations")), pgginkgo.SQLDir(os.DirFS("seed"))),
	)
	var _ = Describe("reports", decorators.FreshDatabase(pgginkgo.FromTemplate("seeded")), func() {})
}

// App code that reads its connection string from the environment reaches
// the spec's database; psql and libpq tools do through PGDATABASE, which
// FreshDatabase always sets. (This example only compiles.)
func ExampleExportURL() {
	var _ = Describe("the app", decorators.FreshDatabase(pgginkgo.ExportURL("DATABASE_URL")), func() {
		It("connects as it would in production", func(ctx SpecContext) {
			Expect(os.Getenv("DATABASE_URL")).To(Equal(pgginkgo.DB(ctx).URL()))
			Expect(os.Getenv("PGDATABASE")).To(Equal(pgginkgo.DB(ctx).Name()))
		})
	})
}

// A policy is one value at both levels: the suite's default, and an
// override for the specs one FreshDatabase decorates. (This example only
// compiles.)
func ExamplePolicy() {
	var _ = pgginkgo.Suite(pgginkgo.Migrations(os.DirFS("migrations")), pgginkgo.KeepNever, pgginkgo.TerminateLeaks)

	var _ = Describe("the report", decorators.FreshDatabase(pgginkgo.KeepOnFailure, pgginkgo.FailOnLeak), func() {
		It("is kept for psql when it fails", func(ctx SpecContext) {})
	})
}
