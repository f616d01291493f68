package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// parse parses a command's flags and rejects positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s", flagError(fs, err))
	}
	if fs.NArg() > 0 {
		arg := fs.Arg(0)
		hint := ""
		if fs.Lookup(arg) != nil {
			hint = fmt.Sprintf(" (did you mean --%s?)", arg)
		} else if st, err := os.Stat(arg); err == nil && st.IsDir() && fs.Lookup("migrations") != nil {
			hint = fmt.Sprintf(" (to prepare that directory, pass --migrations %s)", arg)
		}
		return usagef("unexpected argument %q: %s takes only flags%s", arg, strings.TrimPrefix(fs.Name(), programName+" "), hint)
	}
	return nil
}

// flagError rewords the flag package's errors: it names the flag as the
// user types it, and lists the flags that exist.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, dashed(f.Name)) })
		return fmt.Sprintf("unknown flag %s; the flags are %s", dashed(strings.TrimPrefix(name, "-")), strings.Join(names, ", "))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("flag %s needs a value (%s VALUE)", dashed(name), dashed(name))
	}
	// invalid boolean value "maybe" for -offline: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid boolean value "); ok {
		if value, tail, ok := strings.Cut(rest, " for -"); ok {
			name, _, _ := strings.Cut(tail, ": ")
			return fmt.Sprintf("%s=%s: not true or false; pass %s alone to turn it on", dashed(name), value, dashed(name))
		}
	}
	// invalid value "x" for flag -procs: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if value, tail, ok := strings.Cut(rest, " for flag -"); ok {
			if name, why, ok := strings.Cut(tail, ": "); ok {
				switch why {
				case "parse error":
					why = "not a whole number"
				case "value out of range":
					why = "out of range"
				}
				return fmt.Sprintf("%s %s: %s", dashed(name), value, why)
			}
		}
	}
	return msg
}

// dashed writes a flag name as the usage lines do: -v, --cache-dir.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// valueFlag is a flag.Value of a type with its own spelling: parse reads
// what the user typed, format shows the value in the usage text the way
// users type it. A zero value shows as "", which flag's usage takes for
// "no default".
type valueFlag[T comparable] struct {
	v      T
	parse  func(string) (T, error)
	format func(T) string
}

func (f *valueFlag[T]) String() string {
	var zero T
	// flag calls String on a zero valueFlag, without format, to tell
	// whether the default is the zero value.
	if f == nil || f.v == zero || f.format == nil {
		return ""
	}
	return f.format(f.v)
}

func (f *valueFlag[T]) Set(s string) error {
	v, err := f.parse(s)
	if err != nil {
		return err
	}
	f.v = v
	return nil
}
