package envscope

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// refuseSetenv makes the operating system refuse to set key until the test
// ends, as it might for a reason envscope cannot check up front.
func refuseSetenv(t *testing.T, key string) {
	t.Cleanup(func() { setenv = os.Setenv })
	setenv = func(k, v string) error {
		if k == key {
			return errors.New("refused by test")
		}
		return os.Setenv(k, v)
	}
}

func rollbackKeys(t *testing.T) (a, b, fail string) {
	a, b, fail = "ENVSCOPE_ROLLBACK_A", "ENVSCOPE_ROLLBACK_B", "ENVSCOPE_ROLLBACK_FAIL"
	os.Setenv(a, "a-before")
	os.Unsetenv(b)
	os.Unsetenv(fail)
	t.Cleanup(func() {
		os.Unsetenv(a)
		os.Unsetenv(b)
		os.Unsetenv(fail)
	})
	return a, b, fail
}

func checkRolledBack(t *testing.T, a, b, fail string) {
	t.Helper()
	if v, ok := os.LookupEnv(a); v != "a-before" || !ok {
		t.Errorf("%s = %q (set=%v), want it back at \"a-before\"", a, v, ok)
	}
	for _, k := range []string{b, fail} {
		if _, ok := os.LookupEnv(k); ok {
			t.Errorf("%s is set, want it back to unset", k)
		}
	}
}

// tryApply opens a root scope with a deadline, and restores it when the test
// ends, so that a bug that keeps the turn fails this test rather than hanging
// the next one.
func tryApply(t *testing.T, changes ...Change) (*Scope, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := ApplyContext(ctx, changes...)
	t.Cleanup(func() { s.Restore() })
	return s, err
}

// turnIsFree fails the test unless a new root scope can be opened at once.
func turnIsFree(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := ApplyContext(ctx)
	if err != nil {
		t.Fatalf("the turn was not passed on: %v", err)
	}
	if err := s.Restore(); err != nil {
		t.Fatal(err)
	}
}

func TestRootBatchRollsBackWhenTheSystemRefusesAChange(t *testing.T) {
	a, b, fail := rollbackKeys(t)
	refuseSetenv(t, fail)

	s, err := tryApply(t, Set(a, "a-new"), Set(b, "b-new"), Unset(a), Set(fail, "x"), Set(b, "later"))
	if s != nil {
		t.Fatalf("Apply returned a scope for a refused batch")
	}
	want := "envscope: set ENVSCOPE_ROLLBACK_FAIL failed: refused by test; the batch was rolled back and nothing was applied"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	checkRolledBack(t, a, b, fail)
	turnIsFree(t)
}

func TestNestedBatchRollsBackAndKeepsTheParentOpen(t *testing.T) {
	a, b, fail := rollbackKeys(t)
	root, err := tryApply(t, Set(b, "root"))
	if err != nil {
		t.Fatal(err)
	}
	refuseSetenv(t, fail)

	if child, err := root.Apply(Set(a, "child"), Unset(b), Set(fail, "x")); err == nil {
		child.Restore()
		t.Fatalf("nested Apply succeeded, want the refusal")
	}
	if v, _ := os.LookupEnv(a); v != "a-before" {
		t.Errorf("%s = %q, want \"a-before\"", a, v)
	}
	if v, _ := os.LookupEnv(b); v != "root" {
		t.Errorf("%s = %q, want the root scope's \"root\"", b, v)
	}
	// The failed child was never pushed, so the root is still innermost.
	if err := root.Restore(); err != nil {
		t.Fatalf("restoring the root after a failed child: %v", err)
	}
	checkRolledBack(t, a, b, fail)
	turnIsFree(t)
}

func TestFailedRollbackSaysTheEnvironmentMayBeHalfChanged(t *testing.T) {
	a, _, fail := rollbackKeys(t)
	t.Cleanup(func() { unsetenv = os.Unsetenv })
	unsetenv = func(k string) error {
		if k == fail {
			return errors.New("refused by test")
		}
		return os.Unsetenv(k)
	}
	refuseSetenv(t, fail)

	_, err := tryApply(t, Set(a, "new"), Set(fail, "x"))
	want := "envscope: set ENVSCOPE_ROLLBACK_FAIL failed: refused by test; rolling back the batch also failed, " +
		"so the environment may be half-changed: putting back ENVSCOPE_ROLLBACK_FAIL: refused by test"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	if v, _ := os.LookupEnv(a); v != "a-before" {
		t.Errorf("%s = %q, want the keys that could be put back put back", a, v)
	}
	turnIsFree(t)
}

func TestRestoreThatTheSystemRefusesStillPassesTheTurn(t *testing.T) {
	a, b, fail := rollbackKeys(t)
	os.Setenv(fail, "fail-before")
	s, err := tryApply(t, Set(a, "new"), Set(fail, "new"), Set(b, "new"))
	if err != nil {
		t.Fatal(err)
	}
	refuseSetenv(t, fail)

	err = s.Restore()
	want := "envscope: restoring " + s.String() + ": putting back ENVSCOPE_ROLLBACK_FAIL: refused by test"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	if v, _ := os.LookupEnv(a); v != "a-before" {
		t.Errorf("%s = %q, want the other keys put back", a, v)
	}
	if _, ok := os.LookupEnv(b); ok {
		t.Errorf("%s is set, want the other keys put back", b)
	}
	if err := s.Restore(); err != nil {
		t.Errorf("second Restore = %v, want nil: the scope is closed", err)
	}
	turnIsFree(t)
}
