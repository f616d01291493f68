package envscope_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pgginkgo/pgginkgo/envscope"
)

// patience bounds every wait in the tests, so that a lock left held by a bug
// fails the test instead of hanging the run.
const patience = 10 * time.Second

// testKey returns an environment key that belongs to this test alone, so that
// tests never touch the real environment. The key is unset when the test ends.
func testKey(t *testing.T, name string) string {
	t.Helper()
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	k := "ENVSCOPE_TEST_" + safe + "_" + name
	t.Cleanup(func() { os.Unsetenv(k) })
	return k
}

// setState puts a key in a known state without going through envscope.
func setState(t *testing.T, key, value string, present bool) {
	t.Helper()
	var err error
	if present {
		err = os.Setenv(key, value)
	} else {
		err = os.Unsetenv(key)
	}
	if err != nil {
		t.Fatalf("preparing %s: %v", key, err)
	}
}

// wantState fails the test unless key is in exactly the given state, telling
// unset apart from empty.
func wantState(t *testing.T, key, value string, present bool) {
	t.Helper()
	got, ok := os.LookupEnv(key)
	if ok != present || got != value {
		t.Errorf("%s = %s, want %s", key, describe(got, ok), describe(value, present))
	}
}

func describe(value string, present bool) string {
	if !present {
		return "<unset>"
	}
	return "\"" + value + "\""
}

// mustApply opens a root scope and restores it when the test ends, so that a
// failing test does not leave the lock held for the next one.
func mustApply(t *testing.T, changes ...envscope.Change) *envscope.Scope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	s, err := envscope.ApplyContext(ctx, changes...)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	t.Cleanup(func() { s.Restore() })
	return s
}

// mustNest opens a scope inside parent and restores it when the test ends.
func mustNest(t *testing.T, parent *envscope.Scope, changes ...envscope.Change) *envscope.Scope {
	t.Helper()
	s, err := parent.Apply(changes...)
	if err != nil {
		t.Fatalf("%s.Apply: %v", parent, err)
	}
	t.Cleanup(func() { s.Restore() })
	return s
}

// mustRestore restores s and fails the test on error.
func mustRestore(t *testing.T, s *envscope.Scope) {
	t.Helper()
	if err := s.Restore(); err != nil {
		t.Fatalf("Restore: %v", err)
	}
}

// wantError fails the test unless err is target and reads exactly want.
func wantError(t *testing.T, err, target error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %q", want)
	}
	if !errors.Is(err, target) {
		t.Errorf("error %q does not wrap %v", err, target)
	}
	if err.Error() != want {
		t.Errorf("error text:\n got: %s\nwant: %s", err, want)
	}
}
