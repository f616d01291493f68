package envscope

import "context"

// scopeKey is unexported so that only this package can put a scope into a
// context or read one out.
type scopeKey struct{}

// WithScope returns a copy of ctx that carries s. [ApplyContext] called with
// that context, or one derived from it, nests inside s's owner instead of
// waiting for s to be restored:
//
//	ctx = envscope.WithScope(ctx, scope)
//	helper(ctx) // may call envscope.ApplyContext(ctx, ...) without deadlock
//
// The context does not restore s when it is cancelled; the caller that opened
// s restores it.
func WithScope(ctx context.Context, s *Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// FromContext returns the scope carried by ctx, or nil if it carries none.
// Use it where the code that opened a scope is far from the code that logs
// or restores it, such as a setup step and its teardown:
//
//	if err := envscope.FromContext(ctx).Restore(); err != nil { // nil-safe
//		return err
//	}
func FromContext(ctx context.Context) *Scope {
	s, _ := ctx.Value(scopeKey{}).(*Scope)
	return s
}
