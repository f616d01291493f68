package envscope_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pgginkgo/pgginkgo/envscope"
)

// show prints a variable the way os.LookupEnv sees it, so that an empty
// value and an unset variable look different.
func show(key string) {
	if v, ok := os.LookupEnv(key); ok {
		fmt.Printf("%s=%q\n", key, v)
	} else {
		fmt.Printf("%s is unset\n", key)
	}
}

// The smallest use: change a variable, and put it back when done.
func Example() {
	os.Unsetenv("EXAMPLE_MODE")

	scope, err := envscope.Apply(envscope.Set("EXAMPLE_MODE", "test"))
	if err != nil {
		fmt.Println(err)
		return
	}
	show("EXAMPLE_MODE")

	if err := scope.Restore(); err != nil {
		fmt.Println(err)
	}
	show("EXAMPLE_MODE")
	// Output:
	// EXAMPLE_MODE="test"
	// EXAMPLE_MODE is unset
}

// A batch can set, empty and unset variables at once; Restore brings back each
// one's exact state, telling empty apart from unset.
func ExampleApply() {
	os.Setenv("EXAMPLE_LEVEL", "info")
	os.Setenv("EXAMPLE_EMPTY", "")
	os.Unsetenv("EXAMPLE_NEW")
	defer os.Unsetenv("EXAMPLE_LEVEL")
	defer os.Unsetenv("EXAMPLE_EMPTY")

	scope, err := envscope.Apply(
		envscope.Unset("EXAMPLE_LEVEL"),
		envscope.Set("EXAMPLE_EMPTY", "filled"),
		envscope.Set("EXAMPLE_NEW", ""),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	show("EXAMPLE_LEVEL")
	show("EXAMPLE_EMPTY")
	show("EXAMPLE_NEW")

	scope.Restore()
	show("EXAMPLE_LEVEL")
	show("EXAMPLE_EMPTY")
	show("EXAMPLE_NEW")
	// Output:
	// EXAMPLE_LEVEL is unset
	// EXAMPLE_EMPTY="filled"
	// EXAMPLE_NEW=""
	// EXAMPLE_LEVEL="info"
	// EXAMPLE_EMPTY=""
	// EXAMPLE_NEW is unset
}

// Invalid changes are rejected before anything is applied. The message says
// what to fix and keeps the would-be secret after '=' out of sight.
func ExampleApply_invalid() {
	_, err := envscope.Apply(envscope.Set("PASSWORD=hunter2", "x"))
	fmt.Println(errors.Is(err, envscope.ErrInvalid))
	fmt.Println(err)
	// Output:
	// true
	// envscope: invalid change: change 1 of 1 (set "PASSWORD"…): the key contains '=' at byte 8, which separates name from value in the environment; pass the name alone as the key, as in Set("PASSWORD", value); nothing was applied
}

// A scope opened from a scope nests inside it, without waiting, and the two
// restore in reverse order.
func ExampleScope_Apply() {
	os.Unsetenv("EXAMPLE_MODE")

	outer, _ := envscope.Apply(envscope.Set("EXAMPLE_MODE", "outer"))
	inner, _ := outer.Apply(envscope.Set("EXAMPLE_MODE", "inner"))
	show("EXAMPLE_MODE")

	inner.Restore()
	show("EXAMPLE_MODE")
	outer.Restore()
	show("EXAMPLE_MODE")
	// Output:
	// EXAMPLE_MODE="inner"
	// EXAMPLE_MODE="outer"
	// EXAMPLE_MODE is unset
}

// Restoring a parent while its child is open is refused and changes nothing;
// restoring twice is harmless.
func ExampleScope_Restore() {
	outer, _ := envscope.Apply(envscope.Set("EXAMPLE_MODE", "outer"))
	inner, _ := outer.Apply(envscope.Set("EXAMPLE_MODE", "inner"))

	err := outer.Restore()
	fmt.Println(errors.Is(err, envscope.ErrOutOfOrder))
	show("EXAMPLE_MODE")

	fmt.Println(inner.Restore(), outer.Restore(), outer.Restore())
	// Output:
	// true
	// EXAMPLE_MODE="inner"
	// <nil> <nil> <nil>
}

// Code far down a call chain joins the caller's scope through the context
// instead of waiting for it.
func ExampleWithScope() {
	scope, _ := envscope.Apply(envscope.Set("EXAMPLE_MODE", "test"))
	defer scope.Restore()
	ctx := envscope.WithScope(context.Background(), scope)

	helper := func(ctx context.Context) {
		inner, err := envscope.ApplyContext(ctx, envscope.Set("EXAMPLE_DEBUG", "1"))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer inner.Restore()
		show("EXAMPLE_MODE")
		show("EXAMPLE_DEBUG")
	}
	helper(ctx)
	// Output:
	// EXAMPLE_MODE="test"
	// EXAMPLE_DEBUG="1"
}

// Without the scope in its context, ApplyContext waits for the current owner
// like any stranger, and here that owner is the caller itself. A deadline
// turns the deadlock into an error that names the scope it waited for.
func ExampleApplyContext() {
	scope, _ := envscope.Apply(envscope.Set("EXAMPLE_MODE", "test"))
	defer scope.Restore()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := envscope.ApplyContext(ctx, envscope.Set("EXAMPLE_MODE", "other"))
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	show("EXAMPLE_MODE")
	// Output:
	// true
	// EXAMPLE_MODE="test"
}

// Changes describe themselves by key only, so they are safe to log.
func ExampleChange_String() {
	fmt.Println(envscope.Set("API_TOKEN", "s3cret"))
	fmt.Println(envscope.Unset("DEBUG"))
	// Output:
	// set API_TOKEN
	// unset DEBUG
}
