// Package decorators gives Ginkgo specs a database of their own and scoped
// environment variables. Each decorator is a Ginkgo AroundNode, so it goes
// wherever Ginkgo accepts decorators (It, Describe, Context, Ordered
// containers) and composes with Label, Focus, Serial, FlakeAttempts and the
// rest:
//
//	var _ = Describe("signup", decorators.FreshDatabase(), func() {
//		It("stores the user", func(ctx SpecContext) {
//			db := pgginkgo.DB(ctx) // this spec's own database, already migrated
//			_, err := db.Pool().Exec(ctx, `insert into users(email) values ('a@b.c')`)
//			Expect(err).NotTo(HaveOccurred())
//		})
//	})
//
//	It("reads config from env", decorators.Env(envscope.Set("APP_MODE", "test")), func() {})
//
// The suite must call pgginkgo.Suite once; see package pgginkgo.
package decorators

import (
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// FreshDatabase gives each spec it decorates a database of its own, cloned
// from a template and already connected, so the spec does not wait for it.
// The nodes it covers find the database with pgginkgo.DB(ctx), and see
// PGDATABASE set to its name (when the suite exports PG* variables, as it
// does by default), so psql and libpq-based code with no database named
// reach it; pgginkgo.ExportURL adds its URL under a name of your choice.
// After each node the environment is back to exactly what it was.
//
// Where it goes decides which nodes see the database, because Ginkgo wraps
// only the nodes inside the node a decorator is on:
//
//   - On a Describe or Context: every spec inside gets its own database,
//     seen by all of the spec's nodes inside that container (BeforeEach,
//     JustBeforeEach, It, JustAfterEach, AfterEach and their DeferCleanups).
//   - On an It: that spec gets its own database, seen by the It and its
//     DeferCleanups only. A BeforeEach or AfterEach of an enclosing
//     container that calls pgginkgo.DB fails, saying to move the decorator
//     to the container.
//   - On an Ordered container (or a container inside one): its specs share
//     one database, in order, BeforeAll and AfterAll included, and it goes
//     back to the pool when the first spec after the container starts (or
//     the suite ends). pgginkgo.DB and pgginkgo.CurrentDB fail in the
//     undecorated specs that run after it.
//   - Inside another FreshDatabase (on a container and on an It within it,
//     or on two nested containers): an error, since a spec gets one
//     database. Ginkgo's tree construction fails, naming both places, when
//     the outer one is written on its container's line; otherwise the
//     first node both cover fails.
//
// Each FlakeAttempts or MustPassRepeatedly attempt gets a fresh database
// (outside Ordered containers, whose specs share one). After the spec, the
// database is reset to its template's state in the background, or dropped
// and replaced when the spec changed the schema. A failed spec's database
// is kept, and its report shows a psql command.
//
// The options are pgginkgo.FromTemplate, pgginkgo.ExportURL and the keep,
// leak and cluster-object policies (pgginkgo.KeepAlways, pgginkgo.TerminateLeaks, …),
// the same values the suite takes:
//
//	Describe("checkout", Ordered, decorators.FreshDatabase(pgginkgo.FromTemplate("seeded"), pgginkgo.KeepAlways), func() { … })
func FreshDatabase(opts ...pgginkgo.DatabaseOption) types.AroundNodeDecorator {
	at := types.NewCodeLocation(1)
	return types.AroundNode(pgginkgo.FreshDatabaseAround(at, opts...), at)
}

// Env sets or unsets environment variables for the spec, through envscope:
// every node it covers sees them, and the previous values (unset stays
// unset, empty stays empty) come back after each node, whether it passed,
// failed or panicked.
//
//	It("reads config", decorators.Env(envscope.Set("APP_MODE", "test"), envscope.Unset("DEBUG")), func() {
//		Expect(os.Getenv("APP_MODE")).To(Equal("test"))
//	})
//
// Invalid keys or values fail the spec before anything is applied.
func Env(changes ...envscope.Change) types.AroundNodeDecorator {
	return types.AroundNode(pgginkgo.EnvAround(changes...), types.NewCodeLocation(1))
}
