// Package pgginkgo gives a Ginkgo suite a real PostgreSQL with no setup.
//
// The smallest use is one line next to RunSpecs:
//
//	var _ = pgginkgo.Suite()
//
// Process 1 boots one cluster for the whole run, even under ginkgo -p, and
// every process gets its Handle and PG* variables, so psql and any client
// that reads PGHOST and friends reach it. When the test runs as root,
// PostgreSQL runs as nobody; the test code is the same either way.
//
// Give the suite a schema and each spec a database of its own, already
// migrated and connected:
//
//	var _ = pgginkgo.Suite(pgginkgo.Migrations(os.DirFS("../migrations")))
//
//	var _ = Describe("signup", decorators.FreshDatabase(), func() {
//		It("stores the user", func(ctx SpecContext) {
//			db := pgginkgo.DB(ctx)
//			_, err := db.Pool().Exec(ctx, `insert into users(email) values ('a@b.c')`)
//			Expect(err).NotTo(HaveOccurred())
//		})
//	})
//
// In every node FreshDatabase covers, PGDATABASE names the spec's
// database, so psql with no -d reaches it; ExportURL puts its URL under a
// name the code under test reads:
//
//	var _ = Describe("the app", decorators.FreshDatabase(pgginkgo.ExportURL("DATABASE_URL")), func() { … })
//
// Options are typed by where they apply. A ClusterOption (Version, Port,
// Server, …) shapes the cluster, for Start and Suite alike. A SuiteOption
// means something only to a suite: DefineTemplate and Migrations, Prefetch,
// FailureDumps, the hooks, and the keep, leak and cluster-object policies,
// which are values (KeepAlways, TerminateLeaks, FailOnClusterObjects) that
// decorators.FreshDatabase takes too, to override the suite for some
// specs.
//
// Outside Ginkgo, Start returns the Guard that owns a cluster and the
// Handle that describes it. Package decorators holds the Ginkgo decorators,
// package gsql the Gomega matchers, and package envscope the scoped
// environment changes pgginkgo is built on.
package pgginkgo
