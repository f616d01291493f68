package envscope

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// Scope is a batch of changes that is in force until Restore. Get one from
// [Apply], [ApplyContext] or [Scope.Apply]; every method is safe to call from
// any goroutine.
type Scope struct {
	id      uint64
	owner   *owner
	changes []Change
	saved   []saved // one per distinct key, in order of first appearance
	// restored is guarded by mu.
	restored bool
}

// saved is the state of one key before a scope touched it.
type saved struct {
	key     string
	value   string
	present bool
}

// lastID numbers scopes for log lines. It only ever grows, so a number is
// never reused within a process.
var lastID atomic.Uint64

// Apply opens a root scope with the given changes, waiting as long as another
// owner has scopes open. Use it when nothing above you owns the environment:
//
//	scope, err := envscope.Apply(envscope.Set("APP_MODE", "test"))
//	if err != nil {
//		return err
//	}
//	defer scope.Restore()
//
// Inside a scope you own, use [Scope.Apply] instead: a root Apply would wait
// for your own scope, forever.
func Apply(changes ...Change) (*Scope, error) {
	return ApplyContext(context.Background(), changes...)
}

// ApplyContext is [Apply] with a way out and a way in. When ctx carries an
// open scope (see [WithScope]) the new scope nests inside that scope's owner
// and never waits. Otherwise it waits for the turn like Apply, and gives up
// with an error wrapping ctx.Err() once ctx is done:
//
//	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
//	defer cancel()
//	scope, err := envscope.ApplyContext(ctx, envscope.Unset("DEBUG"))
//
// A ctx carrying a scope that was already restored fails with [ErrRestored].
func ApplyContext(ctx context.Context, changes ...Change) (*Scope, error) {
	if err := validate(changes); err != nil {
		return nil, err
	}
	if parent := FromContext(ctx); parent != nil {
		return parent.nest(changes)
	}
	if err := acquire(ctx); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	o := &owner{}
	holder = o
	s, err := open(o, changes)
	if err != nil {
		release()
		return nil, err
	}
	return s, nil
}

// Apply opens a scope inside s, owned by the same owner, without waiting.
// Restore it before s:
//
//	inner, err := outer.Apply(envscope.Set("APP_MODE", "debug"))
//	if err != nil {
//		return err
//	}
//	defer inner.Restore()
//
// The new scope goes on top of the owner's innermost open scope, which is s
// unless s already has open children. Apply on a restored s fails with
// [ErrRestored]; Apply on a nil *Scope is the package-level [Apply].
func (s *Scope) Apply(changes ...Change) (*Scope, error) {
	if s == nil {
		return Apply(changes...)
	}
	if err := validate(changes); err != nil {
		return nil, err
	}
	return s.nest(changes)
}

// nest opens a scope for s's owner. The changes are already validated.
func (s *Scope) nest(changes []Change) (*Scope, error) {
	mu.Lock()
	defer mu.Unlock()
	if s.restored {
		return nil, fmt.Errorf("%w: cannot open a scope inside %s because it was restored; "+
			"open it inside a scope that is still open, or drop the parent to start a new root scope with envscope.Apply",
			ErrRestored, s)
	}
	return open(s.owner, changes)
}

// open saves the state of every key in changes, applies the changes in
// order, and pushes the new scope on o's stack. If the operating system
// refuses a change, the keys are put back and nothing is pushed. The caller
// holds mu and the turn.
func open(o *owner, changes []Change) (*Scope, error) {
	s := &Scope{
		id:      lastID.Add(1),
		owner:   o,
		changes: append([]Change(nil), changes...),
	}
	seen := make(map[string]bool, len(changes))
	for _, c := range changes {
		if seen[c.key] {
			// The state before the batch is what Restore must bring back,
			// not the state left by an earlier change in the same batch.
			continue
		}
		seen[c.key] = true
		value, present := os.LookupEnv(c.key)
		s.saved = append(s.saved, saved{key: c.key, value: value, present: present})
	}
	for _, c := range changes {
		if err := c.apply(); err != nil {
			// Putting back keys the batch has not reached yet is harmless:
			// they still hold their saved state.
			if rerr := putBack(s.saved); rerr != nil {
				return nil, fmt.Errorf("envscope: %s failed: %w; rolling back the batch also failed, so the environment may be half-changed: %w", c, err, rerr)
			}
			return nil, fmt.Errorf("envscope: %s failed: %w; the batch was rolled back and nothing was applied", c, err)
		}
	}
	o.stack = append(o.stack, s)
	return s, nil
}

func (c Change) apply() error {
	if c.unset {
		return unsetenv(c.key)
	}
	return setenv(c.key, c.value)
}

// putBack writes saved states back, carrying on past failures so that one
// stubborn key does not leave the others changed.
func putBack(states []saved) error {
	var errs []error
	for _, st := range states {
		var err error
		if st.present {
			err = setenv(st.key, st.value)
		} else {
			err = unsetenv(st.key)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("putting back %s: %w", printableKey(st.key), err))
		}
	}
	return errors.Join(errs...)
}

// Restore puts every key the scope touched back to its state from just
// before the scope was opened, even if something changed those keys since.
// When the owner's last scope is restored, the next waiting owner gets its
// turn.
//
// Restore while a scope opened after s by the same owner is still open fails with
// [ErrOutOfOrder] and changes nothing. Restoring s again, or a nil *Scope,
// does nothing and returns nil, so this is safe:
//
//	scope, err := envscope.Apply(envscope.Set("APP_MODE", "test"))
//	if err != nil {
//		return err
//	}
//	defer scope.Restore()
//	// ...
//	if err := scope.Restore(); err != nil {
//		return err
//	}
//
// If the operating system refuses to put a key back, Restore still closes the
// scope and passes on the turn, because keeping them would block every other
// owner for good; the error names the keys that could not be put back.
func (s *Scope) Restore() error {
	if s == nil {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	if s.restored {
		return nil
	}
	stack := s.owner.stack
	if top := stack[len(stack)-1]; top != s {
		return fmt.Errorf("%w: cannot restore %s while %s, opened after it by the same owner, is still open; "+
			"restore %s first (calling defer scope.Restore() right after each Apply does this)",
			ErrOutOfOrder, s, top, top)
	}
	err := putBack(s.saved)
	s.restored = true
	s.owner.stack = stack[:len(stack)-1]
	if len(s.owner.stack) == 0 {
		release()
	}
	if err != nil {
		return fmt.Errorf("envscope: restoring %s: %w", s, err)
	}
	return nil
}

// Changes returns a copy of the changes the scope applied, in the order given.
func (s *Scope) Changes() []Change {
	return append([]Change(nil), s.changes...)
}

// String names the scope for logs and error messages, as in
// "scope#3[set APP_MODE, unset DEBUG]". It shows keys but never values,
// because values are often secrets.
func (s *Scope) String() string {
	if s == nil {
		return "scope#nil"
	}
	if len(s.changes) == 0 {
		return fmt.Sprintf("scope#%d[no changes]", s.id)
	}
	parts := make([]string, len(s.changes))
	for i, c := range s.changes {
		parts[i] = c.String()
	}
	return fmt.Sprintf("scope#%d[%s]", s.id, strings.Join(parts, ", "))
}
