package envscope_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/pgginkgo/pgginkgo/envscope"
)

func TestAnotherOwnerWaitsForTheRootScope(t *testing.T) {
	k := testKey(t, "K")
	setState(t, k, "", false)
	first := mustApply(t, envscope.Set(k, "first"))
	child := mustNest(t, first, envscope.Set(k, "child"))

	type result struct {
		scope *envscope.Scope
		err   error
		saw   string
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		s, err := envscope.ApplyContext(ctx, envscope.Set(k, "second"))
		if err != nil {
			done <- result{err: err}
			return
		}
		saw := envValue(k)
		done <- result{scope: s, saw: saw, err: s.Restore()}
	}()

	// The second owner must still be waiting. A slow machine can only make
	// this check pass wrongly, never fail wrongly.
	select {
	case r := <-done:
		t.Fatalf("second owner got in while %s was open (err=%v)", first, r.err)
	case <-time.After(50 * time.Millisecond):
	}
	mustRestore(t, child)
	select {
	case r := <-done:
		t.Fatalf("second owner got in while %s was open (err=%v)", first, r.err)
	case <-time.After(50 * time.Millisecond):
	}
	mustRestore(t, first)

	r := <-done
	if r.err != nil {
		t.Fatalf("second owner: %v", r.err)
	}
	if r.saw != "second" {
		t.Errorf("second owner saw %s=%q, want %q", k, r.saw, "second")
	}
	wantState(t, k, "", false)
}

func TestNestingNeverWaits(t *testing.T) {
	k := testKey(t, "K")
	setState(t, k, "", false)
	root := mustApply(t, envscope.Set(k, "root"))

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	viaCtx, err := envscope.ApplyContext(envscope.WithScope(ctx, root), envscope.Set(k, "ctx"))
	if err != nil {
		t.Fatalf("ApplyContext with the root in ctx: %v", err)
	}
	viaParent := mustNest(t, viaCtx, envscope.Set(k, "parent"))

	// Another goroutine that shares the owner through ctx joins too.
	joined := make(chan error, 1)
	go func() {
		s, err := envscope.ApplyContext(envscope.WithScope(ctx, viaParent), envscope.Set(k, "goroutine"))
		if err == nil {
			if got := envValue(k); got != "goroutine" {
				err = errors.New("goroutine saw " + got)
			}
			if rerr := s.Restore(); err == nil {
				err = rerr
			}
		}
		joined <- err
	}()
	if err := <-joined; err != nil {
		t.Fatalf("goroutine sharing the owner: %v", err)
	}

	wantState(t, k, "parent", true)
	mustRestore(t, viaParent)
	mustRestore(t, viaCtx)
	mustRestore(t, root)
	wantState(t, k, "", false)
}

func TestApplyContextGivesUpNamingTheHolder(t *testing.T) {
	k := testKey(t, "K")
	holder := mustApply(t, envscope.Set(k, "held"))
	mustNest(t, holder, envscope.Unset(k))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	s, err := envscope.ApplyContext(ctx, envscope.Set(k, "never"))
	if s != nil {
		t.Fatalf("ApplyContext returned a scope while %s was held", holder)
	}
	wantError(t, err, context.DeadlineExceeded,
		"envscope: gave up waiting for "+holder.String()+", opened by another owner, to be restored: context deadline exceeded; "+
			"if this code runs inside that scope, open the new scope with Scope.Apply or pass a context from envscope.WithScope")
	wantState(t, k, "", false)
}

func TestApplyContextWithADoneContextFails(t *testing.T) {
	k := testKey(t, "K")
	setState(t, k, "", false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := envscope.ApplyContext(ctx, envscope.Set(k, "never"))
	wantError(t, err, context.Canceled,
		"envscope: gave up waiting for the turn to change the environment: context canceled")
	wantState(t, k, "", false)

	// The failed call did not take the turn.
	mustRestore(t, mustApply(t))
}

func envValue(key string) string {
	v, ok := os.LookupEnv(key)
	if !ok {
		return "<unset>"
	}
	return v
}
