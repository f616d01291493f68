package envscope_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/pgginkgo/pgginkgo/envscope"
)

func TestRestorePutsBackTheExactState(t *testing.T) {
	wasUnset, wasEmpty, wasSet := testKey(t, "UNSET"), testKey(t, "EMPTY"), testKey(t, "SET")
	setState(t, wasUnset, "", false)
	setState(t, wasEmpty, "", true)
	setState(t, wasSet, "original", true)

	s := mustApply(t,
		envscope.Set(wasUnset, ""),
		envscope.Unset(wasEmpty),
		envscope.Set(wasSet, ""),
	)
	wantState(t, wasUnset, "", true)
	wantState(t, wasEmpty, "", false)
	wantState(t, wasSet, "", true)

	mustRestore(t, s)
	wantState(t, wasUnset, "", false)
	wantState(t, wasEmpty, "", true)
	wantState(t, wasSet, "original", true)
}

func TestRestoreUndoesChangesMadeInsideTheScope(t *testing.T) {
	wasUnset, wasEmpty, wasSet := testKey(t, "UNSET"), testKey(t, "EMPTY"), testKey(t, "SET")
	setState(t, wasUnset, "", false)
	setState(t, wasEmpty, "", true)
	setState(t, wasSet, "original", true)

	s := mustApply(t,
		envscope.Set(wasUnset, "scoped"),
		envscope.Set(wasEmpty, "scoped"),
		envscope.Set(wasSet, "scoped"),
	)
	// Code under test goes behind the scope's back.
	setState(t, wasUnset, "changed", true)
	setState(t, wasEmpty, "", false)
	setState(t, wasSet, "", true)

	mustRestore(t, s)
	wantState(t, wasUnset, "", false)
	wantState(t, wasEmpty, "", true)
	wantState(t, wasSet, "original", true)
}

func TestRestoreLeavesUntouchedKeysAlone(t *testing.T) {
	touched, other := testKey(t, "TOUCHED"), testKey(t, "OTHER")
	setState(t, touched, "", false)
	setState(t, other, "before", true)

	s := mustApply(t, envscope.Set(touched, "x"))
	setState(t, other, "changed inside", true)
	mustRestore(t, s)

	wantState(t, touched, "", false)
	wantState(t, other, "changed inside", true)
}

func TestDuplicateKeysRestoreTheStateBeforeTheBatch(t *testing.T) {
	wasSet, wasUnset := testKey(t, "SET"), testKey(t, "UNSET")
	setState(t, wasSet, "original", true)
	setState(t, wasUnset, "", false)

	s := mustApply(t,
		envscope.Set(wasSet, "first"),
		envscope.Unset(wasSet),
		envscope.Set(wasSet, "last"),
		envscope.Set(wasUnset, "first"),
		envscope.Unset(wasUnset),
	)
	// While the scope is open, the last change to a key wins.
	wantState(t, wasSet, "last", true)
	wantState(t, wasUnset, "", false)

	mustRestore(t, s)
	wantState(t, wasSet, "original", true)
	wantState(t, wasUnset, "", false)
}

func TestRestoreTwiceIsANoOp(t *testing.T) {
	k := testKey(t, "K")
	setState(t, k, "original", true)
	s := mustApply(t, envscope.Set(k, "scoped"))
	mustRestore(t, s)

	setState(t, k, "after", true)
	if err := s.Restore(); err != nil {
		t.Fatalf("second Restore = %v, want nil", err)
	}
	wantState(t, k, "after", true)

	var none *envscope.Scope
	if err := none.Restore(); err != nil {
		t.Fatalf("Restore on a nil scope = %v, want nil", err)
	}
}

func TestScopeStringNamesKeysNotValues(t *testing.T) {
	mode, debug := testKey(t, "MODE"), testKey(t, "DEBUG")
	s := mustApply(t, envscope.Set(mode, "s3cret"), envscope.Unset(debug))

	want := regexp.MustCompile(`^scope#[0-9]+\[set ` + mode + `, unset ` + debug + `\]$`)
	if !want.MatchString(s.String()) {
		t.Errorf("String() = %q, want it to match %s", s, want)
	}
	empty := mustNest(t, s)
	if !regexp.MustCompile(`^scope#[0-9]+\[no changes\]$`).MatchString(empty.String()) {
		t.Errorf("String() of an empty batch = %q", empty)
	}
	id := regexp.MustCompile(`^scope#[0-9]+`)
	if id.FindString(empty.String()) == id.FindString(s.String()) {
		t.Errorf("two scopes share an id: %s and %s", s, empty)
	}
}

func TestChangesReturnsACopy(t *testing.T) {
	k := testKey(t, "K")
	s := mustApply(t, envscope.Set(k, "v"), envscope.Unset(k))
	got := s.Changes()
	if len(got) != 2 || got[0] != envscope.Set(k, "v") || got[1] != envscope.Unset(k) {
		t.Fatalf("Changes() = %v", got)
	}
	got[0] = envscope.Unset("OTHER")
	if s.Changes()[0] != envscope.Set(k, "v") {
		t.Errorf("Changes() shares its slice with the scope")
	}
	if _, ok := os.LookupEnv(k); ok {
		t.Errorf("%s should be unset: the last change wins", k)
	}
}
