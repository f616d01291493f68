package envscope_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pgginkgo/pgginkgo/envscope"
)

func TestChangeDescribesItselfWithoutTheValue(t *testing.T) {
	set := envscope.Set("APP_TOKEN", "s3cret")
	if got := set.String(); got != "set APP_TOKEN" {
		t.Errorf("Set.String() = %q, want %q", got, "set APP_TOKEN")
	}
	if v, ok := set.Value(); v != "s3cret" || !ok {
		t.Errorf("Set.Value() = %q, %v; want \"s3cret\", true", v, ok)
	}
	unset := envscope.Unset("DEBUG")
	if got := unset.String(); got != "unset DEBUG" {
		t.Errorf("Unset.String() = %q, want %q", got, "unset DEBUG")
	}
	if v, ok := unset.Value(); v != "" || ok {
		t.Errorf("Unset.Value() = %q, %v; want \"\", false", v, ok)
	}
	if unset.Key() != "DEBUG" {
		t.Errorf("Unset.Key() = %q, want DEBUG", unset.Key())
	}
	// A key that is really "NAME=value" must not leak the value into logs.
	if got := envscope.Set("PASSWORD=hunter2", "").String(); got != `set "PASSWORD"…` {
		t.Errorf("String() of a key with '=' = %q, want %q", got, `set "PASSWORD"…`)
	}
}

func TestApplyRejectsInvalidChanges(t *testing.T) {
	tests := []struct {
		name   string
		change envscope.Change
		want   string
	}{{
		name:   "zero Change",
		change: envscope.Change{},
		want: `envscope: invalid change: change 2 of 2 (set ""): the key is empty; name the variable, ` +
			`as in Set("APP_MODE", value), and build changes with Set or Unset rather than Change{}; nothing was applied`,
	}, {
		name:   "empty key in Unset",
		change: envscope.Unset(""),
		want: `envscope: invalid change: change 2 of 2 (unset ""): the key is empty; name the variable, ` +
			`as in Set("APP_MODE", value), and build changes with Set or Unset rather than Change{}; nothing was applied`,
	}, {
		name:   "key holding a whole assignment",
		change: envscope.Set("PASSWORD=hunter2", "x"),
		want: `envscope: invalid change: change 2 of 2 (set "PASSWORD"…): the key contains '=' at byte 8, ` +
			`which separates name from value in the environment; pass the name alone as the key, as in Set("PASSWORD", value); nothing was applied`,
	}, {
		name:   "unset of a key with '='",
		change: envscope.Unset("A=B"),
		want: `envscope: invalid change: change 2 of 2 (unset "A"…): the key contains '=' at byte 1, ` +
			`which separates name from value in the environment; pass the name alone, as in Unset("A"); nothing was applied`,
	}, {
		name:   "key starting with '='",
		change: envscope.Set("=C:", "x"),
		want: `envscope: invalid change: change 2 of 2 (set ""…): the key starts with '=', ` +
			`which separates name from value in the environment; remove it from the key; nothing was applied`,
	}, {
		name:   "NUL before '=' in key",
		change: envscope.Set("AB\x00hunter2=x", "x"),
		want: `envscope: invalid change: change 2 of 2 (set "AB"…): the key contains a NUL byte at byte 2, ` +
			`which the environment cannot store; remove it from the key; nothing was applied`,
	}, {
		name:   "NUL in key",
		change: envscope.Set("AB\x00hunter2", "x"),
		want: `envscope: invalid change: change 2 of 2 (set "AB"…): the key contains a NUL byte at byte 2, ` +
			`which the environment cannot store; remove it from the key; nothing was applied`,
	}, {
		name:   "NUL in value",
		change: envscope.Set("TOKEN", "hun\x00ter2"),
		want: `envscope: invalid change: change 2 of 2 (set TOKEN): the value contains a NUL byte at byte 3, ` +
			`which the environment cannot store; remove it from the value (not shown: values may be secrets); nothing was applied`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := testKey(t, "FIRST")
			setState(t, first, "before", true)

			// The valid first change proves that nothing is half-applied.
			s, err := envscope.Apply(envscope.Set(first, "after"), tt.change)
			if s != nil {
				s.Restore()
				t.Fatalf("Apply returned a scope for an invalid batch")
			}
			wantError(t, err, envscope.ErrInvalid, tt.want)
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a secret: %s", err)
			}
			wantState(t, first, "before", true)

			// A rejected root Apply must not keep the turn.
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			s, err = envscope.ApplyContext(ctx)
			if err != nil {
				t.Fatalf("Apply after a rejected batch: %v", err)
			}
			mustRestore(t, s)
		})
	}
}

func TestApplyReportsEveryInvalidChange(t *testing.T) {
	_, err := envscope.Apply(envscope.Set("", "x"), envscope.Set("OK", "fine"), envscope.Set("V", "\x00"))
	wantError(t, err, envscope.ErrInvalid,
		`envscope: invalid change: `+
			`change 1 of 3 (set ""): the key is empty; name the variable, as in Set("APP_MODE", value), and build changes with Set or Unset rather than Change{}; `+
			`change 3 of 3 (set V): the value contains a NUL byte at byte 0, which the environment cannot store; remove it from the value (not shown: values may be secrets); `+
			`nothing was applied`)
}

func TestNestedApplyRejectsInvalidChanges(t *testing.T) {
	k := testKey(t, "K")
	setState(t, k, "", false)
	root := mustApply(t, envscope.Set(k, "root"))

	_, err := root.Apply(envscope.Set(k, "child"), envscope.Unset(""))
	if !errors.Is(err, envscope.ErrInvalid) {
		t.Fatalf("Scope.Apply error = %v, want ErrInvalid", err)
	}
	ctx := envscope.WithScope(context.Background(), root)
	_, err = envscope.ApplyContext(ctx, envscope.Set(k, "child"), envscope.Set("A=B", ""))
	if !errors.Is(err, envscope.ErrInvalid) {
		t.Fatalf("ApplyContext error = %v, want ErrInvalid", err)
	}
	wantState(t, k, "root", true)

	// The root scope is still the innermost one: nothing was pushed.
	mustRestore(t, root)
	wantState(t, k, "", false)
}
