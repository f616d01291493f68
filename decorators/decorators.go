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
	"context"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// FreshDatabase gives each spec it decorates a database of its own, cloned
// from a template and already connected, so the spec does not wait for it.
// On an Ordered container, the container's specs share one database, in
// order. Every node of a spec (BeforeEach, JustBeforeEach, It, AfterEach,
// DeferCleanup) sees the same database through pgginkgo.DB(ctx), and each
// FlakeAttempts or MustPassRepeatedly attempt gets a fresh one (outside
// Ordered containers, whose specs share one).
//
// After the spec, the database is reset to its template's state in the
// background, or dropped and replaced when the spec changed the schema. A
// failed spec's database is kept, and its report shows a psql command.
//
//	Describe("checkout", Ordered, decorators.FreshDatabase(decorators.Template("seeded")), func() { ... })
func FreshDatabase(opts ...pgginkgo.DatabaseOption) types.AroundNodeDecorator {
	return ginkgo.AroundNode(pgginkgo.FreshDatabaseAround(opts...))
}

// Template picks the template FreshDatabase clones, by the name given to
// pgginkgo.Template in the suite setup.
func Template(name string) pgginkgo.DatabaseOption { return pgginkgo.UseTemplate(name) }

// KeepAlways keeps these specs' databases even when they pass.
func KeepAlways() pgginkgo.DatabaseOption { return pgginkgo.Keep(pgginkgo.KeepAlways) }

// KeepNever recycles these specs' databases even when they fail.
func KeepNever() pgginkgo.DatabaseOption { return pgginkgo.Keep(pgginkgo.KeepNever) }

// TerminateLeaks terminates connections these specs leave open to their
// database instead of failing them.
func TerminateLeaks() pgginkgo.DatabaseOption { return pgginkgo.OnLeak(pgginkgo.TerminateLeaks) }

// Env sets or unsets environment variables for the spec, through envscope:
// every node of the spec sees them, and the previous values (unset stays
// unset, empty stays empty) come back after each node, whether it passed,
// failed or panicked.
//
//	It("reads config", decorators.Env(envscope.Set("APP_MODE", "test"), envscope.Unset("DEBUG")), func() {
//		Expect(os.Getenv("APP_MODE")).To(Equal("test"))
//	})
//
// Invalid keys or values fail the spec before anything is applied.
func Env(changes ...envscope.Change) types.AroundNodeDecorator {
	// Validate now, once, so a typo shows up in the first spec that uses it
	// rather than as a half-applied environment.
	probe := envscope.Validate(changes...)
	return ginkgo.AroundNode(func(ctx context.Context, body func(context.Context)) {
		if probe != nil {
			ginkgo.Fail("decorators.Env: " + probe.Error())
		}
		// Nest under the suite's scope (which holds PG*) or the context's,
		// so the process-wide lock is not taken twice by one owner.
		parent := envscope.FromContext(ctx)
		if parent == nil {
			parent = pgginkgo.EnvScope()
		}
		var (
			scope *envscope.Scope
			err   error
		)
		if parent != nil {
			scope, err = parent.Apply(changes...)
		} else {
			scope, err = envscope.ApplyContext(ctx, changes...)
		}
		if err != nil {
			ginkgo.Fail("decorators.Env: " + err.Error())
		}
		defer func() {
			if err := scope.Restore(); err != nil {
				ginkgo.Fail("decorators.Env: restoring: " + err.Error())
			}
		}()
		body(envscope.WithScope(ctx, scope))
	})
}
