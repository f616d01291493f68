package envscope

import "errors"

// The errors below are the ones callers branch on. Errors envscope returns
// wrap one of them, a context error, or the operating system's error when
// setting a variable fails, and add which scope or change was at fault and
// what to do about it, so test with [errors.Is]:
//
//	if errors.Is(err, envscope.ErrOutOfOrder) { ... }
var (
	// ErrInvalid means a change was rejected before anything was applied: an
	// empty key, a key containing '=' or NUL, or a value containing NUL.
	ErrInvalid = errors.New("envscope: invalid change")

	// ErrOutOfOrder means Restore was called on a scope while a scope opened
	// after it by the same owner was still open. Nothing was changed; restore
	// the later scope first, or let defer do it.
	ErrOutOfOrder = errors.New("envscope: scope restored out of order")

	// ErrRestored means a scope was opened inside a scope that had already
	// been restored, either with [Scope.Apply] or through a context from
	// [WithScope]. Its owner may no longer hold the environment, so nesting
	// there could change it behind another owner's back.
	ErrRestored = errors.New("envscope: parent scope already restored")
)
