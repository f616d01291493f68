package envscope

import (
	"fmt"
	"strconv"
	"strings"
)

// Change is one edit to the environment: give a key a value, or remove it.
// Build it with [Set] or [Unset]; the zero Change has an empty key and is
// rejected by Apply.
type Change struct {
	key   string
	value string
	unset bool
}

// Set returns a Change that gives key the value. An empty value is kept as an
// empty value, not turned into an unset key:
//
//	envscope.Apply(envscope.Set("APP_MODE", "test"))
func Set(key, value string) Change {
	return Change{key: key, value: value}
}

// Unset returns a Change that removes key from the environment, so that
// [os.LookupEnv] reports it as missing while the scope is open:
//
//	envscope.Apply(envscope.Unset("DEBUG"))
func Unset(key string) Change {
	return Change{key: key, unset: true}
}

// Key returns the name of the variable the change touches.
func (c Change) Key() string { return c.key }

// Value returns the value the change sets, and set=false for an [Unset]
// change, the same way [os.LookupEnv] reports a missing variable.
func (c Change) Value() (value string, set bool) { return c.value, !c.unset }

// String describes the change for logs as "set KEY" or "unset KEY". It never
// shows the value, because values are often secrets.
func (c Change) String() string {
	if c.unset {
		return "unset " + printableKey(c.key)
	}
	return "set " + printableKey(c.key)
}

// printableKey shows a key for a log line. A key that holds '=' or NUL is cut
// there, because such a key is usually a mistaken "NAME=value" and the part
// after the cut may be a secret.
func printableKey(key string) string {
	if i := strings.IndexAny(key, "=\x00"); i >= 0 {
		return strconv.Quote(key[:i]) + "…"
	}
	if key == "" || strings.ContainsAny(key, " \t\r\n,[]") {
		return strconv.Quote(key)
	}
	return key
}

// validate checks a whole batch before any of it is applied, and reports every
// bad change at once so that one round of fixes is enough.
func validate(changes []Change) error {
	var problems []string
	for i, c := range changes {
		problem := c.problem()
		if problem == "" {
			continue
		}
		problems = append(problems, fmt.Sprintf("change %d of %d (%s): %s", i+1, len(changes), c, problem))
	}
	if problems == nil {
		return nil
	}
	return fmt.Errorf("%w: %s; nothing was applied", ErrInvalid, strings.Join(problems, "; "))
}

// problem says what is wrong with c and how to fix it, or "" if nothing is.
// These are the rules the operating system enforces; checking them here
// keeps a batch from failing half-way.
func (c Change) problem() string {
	if c.key == "" {
		return "the key is empty; name the variable, as in Set(\"APP_MODE\", value), and build changes with Set or Unset rather than Change{}"
	}
	// Whichever of '=' and NUL comes first is reported, so that the suggested
	// fix never quotes the key past a NUL.
	if i := strings.IndexAny(c.key, "=\x00"); i >= 0 {
		switch {
		case c.key[i] == 0:
			return fmt.Sprintf("the key contains a NUL byte at byte %d, which the environment cannot store; remove it from the key", i)
		case i == 0:
			return "the key starts with '=', which separates name from value in the environment; remove it from the key"
		case c.unset:
			return fmt.Sprintf("the key contains '=' at byte %d, which separates name from value in the environment; pass the name alone, as in Unset(%q)", i, c.key[:i])
		default:
			return fmt.Sprintf("the key contains '=' at byte %d, which separates name from value in the environment; pass the name alone as the key, as in Set(%q, value)", i, c.key[:i])
		}
	}
	if i := strings.IndexByte(c.value, 0); i >= 0 && !c.unset {
		return fmt.Sprintf("the value contains a NUL byte at byte %d, which the environment cannot store; remove it from the value (not shown: values may be secrets)", i)
	}
	return ""
}

// Validate checks changes the way Apply does, without applying anything, so
// that a caller can report bad input early (for example when a test
// decorator is built).
func Validate(changes ...Change) error { return validate(changes) }
