package envscope_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pgginkgo/pgginkgo/envscope"
)

// TestManyOwnersTakeTurns runs many goroutines that each open, nest and
// restore scopes on the same keys. Run it with -race: besides the data races
// the detector finds, it checks that only one owner is ever inside and that
// each owner sees its own values for as long as it holds its scopes.
func TestManyOwnersTakeTurns(t *testing.T) {
	goroutines, iterations := 32, 200
	if testing.Short() {
		iterations = 20
	}
	shared, nested := testKey(t, "SHARED"), testKey(t, "NESTED")
	setState(t, shared, "original", true)
	setState(t, nested, "", false)

	var inside atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iterations {
				if err := takeTurn(g, i, shared, nested, &inside); err != nil {
					errs <- fmt.Errorf("goroutine %d, iteration %d: %w", g, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wantState(t, shared, "original", true)
	wantState(t, nested, "", false)
}

func takeTurn(g, i int, shared, nested string, inside *atomic.Int32) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), patience*3)
	defer cancel()
	mine := fmt.Sprintf("g%d-i%d", g, i)

	root, err := envscope.ApplyContext(ctx, envscope.Set(shared, mine), envscope.Unset(nested))
	if err != nil {
		return err
	}
	// Deferred restores release the turn on an early return too, so that one
	// failure does not stall the other goroutines.
	defer func() {
		if rerr := root.Restore(); err == nil {
			err = rerr
		}
	}()
	// Deferred after the restore above, so it runs before the turn passes on.
	n := inside.Add(1)
	defer inside.Add(-1)
	if n != 1 {
		return fmt.Errorf("%d owners inside at once", n)
	}
	if err := expect(shared, mine, true); err != nil {
		return err
	}

	// Alternate the two ways of nesting so both are raced.
	var child *envscope.Scope
	if i%2 == 0 {
		child, err = root.Apply(envscope.Set(nested, mine+"-child"), envscope.Set(shared, ""))
	} else {
		child, err = envscope.ApplyContext(envscope.WithScope(ctx, root),
			envscope.Set(nested, mine+"-child"), envscope.Set(shared, ""))
	}
	if err != nil {
		return err
	}
	defer child.Restore() // a no-op unless an early return skips the one below
	grandchild, err := child.Apply(envscope.Unset(shared))
	if err != nil {
		return err
	}
	defer grandchild.Restore()
	if err := expect(shared, "", false); err != nil {
		return err
	}
	if err := expect(nested, mine+"-child", true); err != nil {
		return err
	}
	for _, s := range []*envscope.Scope{grandchild, child} {
		if err := s.Restore(); err != nil {
			return err
		}
	}
	if err := expect(shared, mine, true); err != nil {
		return err
	}
	return expect(nested, "", false)
}

func expect(key, value string, present bool) error {
	got, ok := os.LookupEnv(key)
	if ok != present || got != value {
		return fmt.Errorf("%s = %s, want %s", key, describe(got, ok), describe(value, present))
	}
	return nil
}
