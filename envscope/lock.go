package envscope

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// This file holds the package's only mutable globals. They are safe because
// the environment they guard is itself one per process: a per-value lock
// could not keep two owners from writing the same variables.
var (
	// turn holds a token while some owner has open scopes. It is a channel
	// rather than a sync.Mutex so that a waiter can give up when its context
	// is done.
	turn = make(chan struct{}, 1)

	// mu guards holder, every owner's stack, every scope's restored flag, and
	// the writes to the environment. Goroutines of one owner can race each
	// other, and turn does not keep them apart.
	mu sync.Mutex

	// holder is the owner that has the token, kept so that a waiter who gives
	// up can say whom it waited for.
	holder *owner

	// setenv and unsetenv are variables only so that a test can make the
	// operating system refuse a change and watch the rollback. Nothing else
	// assigns them.
	setenv   = os.Setenv
	unsetenv = os.Unsetenv
)

// owner is one chain of nested scopes, rooted at a scope opened by Apply or
// ApplyContext. Its stack lists the open scopes, innermost last.
type owner struct {
	stack []*Scope
}

// acquire waits for the turn to change the environment. On success the caller
// must set holder and, once its last scope is restored, call release.
func acquire(ctx context.Context) error {
	// A done context fails even when the turn is free, so that the result
	// does not depend on select's random choice.
	if err := ctx.Err(); err != nil {
		return waitError(err)
	}
	select {
	case turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return waitError(ctx.Err())
	}
}

// release gives the turn to the next waiter. The caller holds mu.
func release() {
	holder = nil
	<-turn
}

// waitError explains why ApplyContext gave up, naming the scope it waited for
// because a self-deadlock is the likeliest cause and the name finds it.
func waitError(cause error) error {
	mu.Lock()
	defer mu.Unlock()
	if holder == nil || len(holder.stack) == 0 {
		return fmt.Errorf("envscope: gave up waiting for the turn to change the environment: %w", cause)
	}
	return fmt.Errorf("envscope: gave up waiting for %s, opened by another owner, to be restored: %w; "+
		"if this code runs inside that scope, open the new scope with Scope.Apply or pass a context from envscope.WithScope",
		holder.stack[0], cause)
}
