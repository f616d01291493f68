package envscope_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pgginkgo/pgginkgo/envscope"
)

func TestNestedScopesRestoreLastInFirstOut(t *testing.T) {
	k := testKey(t, "K")
	setState(t, k, "", false)

	outer := mustApply(t, envscope.Set(k, "outer"))
	inner := mustNest(t, outer, envscope.Set(k, "inner"))
	innermost := mustNest(t, inner, envscope.Unset(k))
	wantState(t, k, "", false)

	mustRestore(t, innermost)
	wantState(t, k, "inner", true)
	mustRestore(t, inner)
	wantState(t, k, "outer", true)
	mustRestore(t, outer)
	wantState(t, k, "", false)
}

func TestOutOfOrderRestoreIsAnErrorAndChangesNothing(t *testing.T) {
	k := testKey(t, "K")
	setState(t, k, "original", true)

	outer := mustApply(t, envscope.Set(k, "outer"))
	inner := mustNest(t, outer, envscope.Set(k, "inner"))

	err := outer.Restore()
	wantError(t, err, envscope.ErrOutOfOrder,
		"envscope: scope restored out of order: cannot restore "+outer.String()+" while "+inner.String()+
			", opened after it by the same owner, is still open; restore "+inner.String()+
			" first (calling defer scope.Restore() right after each Apply does this)")
	wantState(t, k, "inner", true)

	// Both scopes are still open and still restore in the right order.
	mustRestore(t, inner)
	wantState(t, k, "outer", true)
	mustRestore(t, outer)
	wantState(t, k, "original", true)
}

func TestOutOfOrderRestoreNamesTheInnermostScope(t *testing.T) {
	k := testKey(t, "K")
	root := mustApply(t, envscope.Set(k, "1"))
	middle := mustNest(t, root, envscope.Set(k, "2"))
	top := mustNest(t, middle, envscope.Set(k, "3"))

	wantError(t, root.Restore(), envscope.ErrOutOfOrder,
		"envscope: scope restored out of order: cannot restore "+root.String()+" while "+top.String()+
			", opened after it by the same owner, is still open; restore "+top.String()+
			" first (calling defer scope.Restore() right after each Apply does this)")
	wantState(t, k, "3", true)
}

func TestApplyOnAParentWithOpenChildrenStacksOnTop(t *testing.T) {
	k := testKey(t, "K")
	setState(t, k, "original", true)
	root := mustApply(t, envscope.Set(k, "root"))
	first := mustNest(t, root, envscope.Set(k, "first"))
	second := mustNest(t, root, envscope.Set(k, "second"))

	if err := first.Restore(); !errors.Is(err, envscope.ErrOutOfOrder) {
		t.Fatalf("restoring %s under %s succeeded, want ErrOutOfOrder", first, second)
	}
	mustRestore(t, second)
	wantState(t, k, "first", true)
	mustRestore(t, first)
	wantState(t, k, "root", true)
	mustRestore(t, root)
	wantState(t, k, "original", true)
}

func TestApplyInsideARestoredScopeFails(t *testing.T) {
	k := testKey(t, "K")
	setState(t, k, "", false)
	root := mustApply(t, envscope.Set(k, "root"))
	child := mustNest(t, root, envscope.Set(k, "child"))
	mustRestore(t, child)

	want := "envscope: parent scope already restored: cannot open a scope inside " + child.String() +
		" because it was restored; open it inside a scope that is still open, or drop the parent to start a new root scope with envscope.Apply"
	_, err := child.Apply(envscope.Set(k, "grandchild"))
	wantError(t, err, envscope.ErrRestored, want)

	ctx := envscope.WithScope(context.Background(), child)
	_, err = envscope.ApplyContext(ctx, envscope.Set(k, "grandchild"))
	wantError(t, err, envscope.ErrRestored, want)
	wantState(t, k, "root", true)

	mustRestore(t, root)
	_, err = root.Apply()
	if err == nil {
		t.Fatalf("Apply inside a restored root succeeded")
	}
	wantState(t, k, "", false)
}

func TestNilScopeApplyOpensARootScope(t *testing.T) {
	k := testKey(t, "K")
	setState(t, k, "", false)
	var none *envscope.Scope
	s, err := none.Apply(envscope.Set(k, "v"))
	if err != nil {
		t.Fatalf("nil Scope.Apply: %v", err)
	}
	wantState(t, k, "v", true)
	mustRestore(t, s)
	wantState(t, k, "", false)
}

func TestFromContextReturnsTheCarriedScope(t *testing.T) {
	if s := envscope.FromContext(context.Background()); s != nil {
		t.Errorf("FromContext(Background) = %s, want nil", s)
	}
	s := mustApply(t)
	ctx, cancel := context.WithCancel(envscope.WithScope(context.Background(), s))
	defer cancel()
	if got := envscope.FromContext(ctx); got != s {
		t.Errorf("FromContext = %s, want %s", got, s)
	}
}
