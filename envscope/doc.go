/*
Package envscope changes environment variables for a while and then puts them
back exactly as they were.

# The smallest use

Apply a change, and restore it when you are done:

	scope, err := envscope.Apply(envscope.Set("APP_MODE", "test"))
	if err != nil {
		return err
	}
	defer scope.Restore()

	// Here os.Getenv("APP_MODE") == "test".

After Restore, APP_MODE is back to what it was: the same value, the same empty
string, or unset if it was unset. Restore tells these apart with
[os.LookupEnv], so a variable that did not exist before does not come back as
an empty one.

# Several changes at once

A scope is a batch. Set gives a variable a value, Unset removes it:

	scope, err := envscope.Apply(
		envscope.Set("APP_MODE", "test"),
		envscope.Set("APP_LOG", ""), // set, but empty
		envscope.Unset("DEBUG"),     // gone until Restore
	)

If a key appears twice in one batch the last change wins while the scope is
open, and Restore still goes back to the state from before the batch.

Restore writes back the saved state of every key the scope touched, whatever
happened to those keys in between: if the code under test calls [os.Setenv] on
APP_MODE again, Restore still puts back the value from before Apply. Keys the
scope did not touch are left alone.

# Nothing half-done

Apply checks every change before it touches the environment. An empty key, a
key containing '=' or a NUL byte, or a value containing a NUL byte fails the
whole batch with an error that wraps [ErrInvalid] and says how to fix it. If
the operating system still refuses a change part-way through, the changes made
so far are rolled back before Apply returns the error.

Errors and [Scope.String] name keys but never values, because values are often
secrets:

	scope#3[set APP_MODE, unset DEBUG]

# Nesting

A scope can open a child scope. Children close before their parent (last in,
first out), which is what defer gives you for free:

	outer, _ := envscope.Apply(envscope.Set("APP_MODE", "test"))
	defer outer.Restore()

	inner, _ := outer.Apply(envscope.Set("APP_MODE", "debug"))
	defer inner.Restore()

Restoring outer while inner is still open would leave the environment in a
state nobody asked for, so it fails with an error that wraps [ErrOutOfOrder],
names both scopes, and changes nothing. Restoring a scope a second time does
nothing and returns nil, so an explicit Restore plus a deferred one is safe.

# Sharing the process

The environment belongs to the whole process, so envscope lets one owner at a
time change it. An owner starts when a root scope is opened with [Apply] or
[ApplyContext] and ends when its last open scope is restored. Meanwhile every
other root Apply waits its turn; [ApplyContext] gives up when its context is
done.

Ownership is carried by values you pass along, not by goroutine identity,
because Go hides goroutine identity and because one test often spans several
goroutines. A scope opened from an open scope, with [Scope.Apply], joins that
scope's owner and never waits. So does [ApplyContext] when its context carries
an open scope, put there with [WithScope]:

	ctx = envscope.WithScope(ctx, outer)
	inner, err := envscope.ApplyContext(ctx, envscope.Set("APP_MODE", "debug"))

This is how code deep in a call chain joins a scope opened far above it
without being handed the scope itself.

The flip side: calling the root [Apply] while you already own the environment
waits for yourself, forever. Use [ApplyContext] with a deadline where that
could happen; its error names the scope it was waiting for. Scopes of one
owner are not serialised against each other, so goroutines that share an owner
must still close their scopes in LIFO order between them.

Reads are not locked: [os.Getenv] always sees the current environment, and
code that writes the environment without envscope is not kept out.
*/
package envscope
