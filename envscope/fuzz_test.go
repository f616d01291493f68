package envscope_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/pgginkgo/pgginkgo/envscope"
)

// fuzzPrefix starts every key the fuzzer touches, so that it never clobbers
// the real environment and snapshots can be limited to its own keys.
const fuzzPrefix = "ENVSCOPE_FUZZ_"

// Script opcodes: the top two bits of a script byte pick one, the low six
// bits are its argument.
const (
	opSet   = 0 // add Set(key, value) to the pending batch
	opUnset = 1 // add Unset(key) to the pending batch
	opOpen  = 2 // open a scope with the pending batch
	opOther = 3 // restore, try an out-of-order restore, or meddle with a key
)

// FuzzRestoreExact runs scripts of nested scopes over a few keys, with
// values and one key suffix chosen by the fuzzer, and checks that every
// Restore brings back exactly the environment from before its Apply, and
// that invalid batches and out-of-order restores fail without changing it.
//
// Executions per second fall the longer a worker runs. That is the standard
// library, not envscope: on Unix the process environment gains an entry each
// time an unset key is set again, and os.Environ walks all of them.
func FuzzRestoreExact(f *testing.F) {
	f.Add([]byte{0x00, 0x05, 0x80, 0xc0}, "value", "", "K")
	// Duplicate keys in one batch, keys that start unset, empty values.
	f.Add([]byte{0x24, 0x00, 0x40, 0x04, 0x41, 0x08, 0x80, 0xc0}, "", "x", "K")
	// Three levels, nesting through the parent and through the context,
	// with meddling inside and an out-of-order attempt.
	f.Add([]byte{0xe4, 0x01, 0x80, 0x06, 0x81, 0x4b, 0x80, 0xc2, 0xc6, 0xc1, 0xc0, 0xc0, 0xc0}, "a", "b", "K")
	// Invalid batches: a NUL in a value, '=' and NUL in a key.
	f.Add([]byte{0x00, 0x04, 0x80}, "nul\x00inside", "", "K")
	f.Add([]byte{0x00, 0x03, 0x80}, "v", "", "NAME=secret")
	f.Add([]byte{0x00, 0x43, 0x80}, "v", "", "NUL\x00KEY")
	// A batch left pending at the end of the script.
	f.Add([]byte{0xff, 0x0f, 0x4e}, "tail", "", "")

	f.Fuzz(func(t *testing.T, script []byte, a, b, odd string) {
		if len(script) > 64 {
			script = script[:64] // long scripts find nothing short ones miss
		}
		clearFuzzEnv(t)
		defer clearFuzzEnv(t)
		r := &fuzzRun{
			t:      t,
			keys:   [4]string{fuzzPrefix + "A", fuzzPrefix + "B", fuzzPrefix + "C", fuzzPrefix + "X_" + odd},
			values: [4]string{"", a, b, "orig"},
		}
		defer r.release()

		if len(script) > 0 {
			r.setInitialState(script[0])
			script = script[1:]
		}
		initial := snapshot()
		for _, op := range script {
			r.step(op>>6, int(op&0x3f))
		}
		if r.batch != nil {
			r.open(0)
		}
		r.restoreAll()
		if got := snapshot(); !maps.Equal(got, initial) {
			t.Fatalf("after restoring every scope:\n got %q\nwant %q", got, initial)
		}
	})
}

type fuzzRun struct {
	t      *testing.T
	keys   [4]string
	values [4]string
	batch  []envscope.Change
	scopes []*envscope.Scope
	before []map[string]string // the snapshot taken before each open scope
}

// setInitialState gives each key one of four starting states, two bits each.
func (r *fuzzRun) setInitialState(bits byte) {
	for i, k := range r.keys {
		switch (bits >> (2 * i)) & 3 {
		case 0:
			os.Unsetenv(k)
		case 1:
			os.Setenv(k, "")
		case 2:
			os.Setenv(k, "orig")
		case 3:
			// May fail for a key or value the environment cannot hold; the
			// snapshot records whatever state the key is really in.
			os.Setenv(k, r.values[1])
		}
	}
}

func (r *fuzzRun) step(op byte, arg int) {
	switch op {
	case opSet:
		r.batch = append(r.batch, envscope.Set(r.keys[arg%4], r.values[arg/4%4]))
	case opUnset:
		r.batch = append(r.batch, envscope.Unset(r.keys[arg%4]))
	case opOpen:
		r.open(arg)
	case opOther:
		switch arg % 4 {
		case 0:
			r.restoreTop()
		case 1:
			r.restoreOutOfOrder(arg / 4)
		default:
			r.meddle(arg / 4)
		}
	}
}

// open applies the pending batch as a new scope: a root scope when none is
// open, else nested through a parent scope or through a context.
func (r *fuzzRun) open(arg int) {
	t := r.t
	batch := r.batch
	r.batch = nil
	before := snapshot()

	var s *envscope.Scope
	var err error
	switch n := len(r.scopes); {
	case n == 0:
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		s, err = envscope.ApplyContext(ctx, batch...)
		cancel()
	case arg%2 == 0:
		s, err = r.scopes[n-1].Apply(batch...)
	default:
		// Any open scope of the owner will do: the new one goes on top.
		parent := r.scopes[arg/2%n]
		s, err = envscope.ApplyContext(envscope.WithScope(context.Background(), parent), batch...)
	}

	if invalid(batch) {
		if !errors.Is(err, envscope.ErrInvalid) || s != nil {
			t.Fatalf("Apply(%v) = %v, %v; want ErrInvalid", batch, s, err)
		}
		if got := snapshot(); !maps.Equal(got, before) {
			t.Fatalf("a rejected batch changed the environment:\n got %q\nwant %q", got, before)
		}
		return
	}
	if err != nil {
		t.Fatalf("Apply(%v): %v", batch, err)
	}
	r.scopes = append(r.scopes, s)
	r.before = append(r.before, before)

	want := maps.Clone(before)
	for _, c := range batch {
		if v, set := c.Value(); set {
			want[c.Key()] = v
		} else {
			delete(want, c.Key())
		}
	}
	if got := snapshot(); !maps.Equal(got, want) {
		t.Fatalf("inside %s:\n got %q\nwant %q", s, got, want)
	}
}

func (r *fuzzRun) restoreTop() {
	n := len(r.scopes)
	if n == 0 {
		return
	}
	s, before := r.scopes[n-1], r.before[n-1]
	r.scopes, r.before = r.scopes[:n-1], r.before[:n-1]
	// Keys the scope touched go back to their state before its Apply; keys
	// it did not touch keep whatever they hold now.
	want := snapshot()
	for _, c := range s.Changes() {
		if v, ok := before[c.Key()]; ok {
			want[c.Key()] = v
		} else {
			delete(want, c.Key())
		}
	}
	if err := s.Restore(); err != nil {
		r.t.Fatalf("Restore %s: %v", s, err)
	}
	if got := snapshot(); !maps.Equal(got, want) {
		r.t.Fatalf("after restoring %s:\n got %q\nwant %q", s, got, want)
	}
	// A second restore must change nothing.
	if err := s.Restore(); err != nil {
		r.t.Fatalf("second Restore %s: %v", s, err)
	}
	if got := snapshot(); !maps.Equal(got, want) {
		r.t.Fatalf("a second restore of %s changed the environment:\n got %q\nwant %q", s, got, want)
	}
}

func (r *fuzzRun) restoreOutOfOrder(arg int) {
	n := len(r.scopes)
	if n < 2 {
		return
	}
	s := r.scopes[arg%(n-1)]
	before := snapshot()
	if err := s.Restore(); !errors.Is(err, envscope.ErrOutOfOrder) {
		r.t.Fatalf("Restore %s under %s = %v, want ErrOutOfOrder", s, r.scopes[n-1], err)
	}
	if got := snapshot(); !maps.Equal(got, before) {
		r.t.Fatalf("an out-of-order restore changed the environment:\n got %q\nwant %q", got, before)
	}
}

// meddle changes a key behind the scopes' backs, as code under test might.
// It picks a key some open scope touched: only those does Restore promise to
// put back, and that promise is what the final check relies on.
func (r *fuzzRun) meddle(arg int) {
	var touched []string
	for _, s := range r.scopes {
		for _, c := range s.Changes() {
			touched = append(touched, c.Key())
		}
	}
	if len(touched) == 0 {
		return
	}
	k := touched[arg%len(touched)]
	if arg/4%2 == 0 {
		os.Unsetenv(k)
	} else {
		os.Setenv(k, "meddled")
	}
}

func (r *fuzzRun) restoreAll() {
	for len(r.scopes) > 0 {
		r.restoreTop()
	}
}

// release restores whatever a failed run left open, without checks, so that
// the next input does not wait for a turn that is never passed on.
func (r *fuzzRun) release() {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		r.scopes[i].Restore()
	}
}

// invalid states the rules a batch must break to be rejected, independently
// of the package's own check.
func invalid(batch []envscope.Change) bool {
	for _, c := range batch {
		v, set := c.Value()
		if c.Key() == "" || strings.ContainsAny(c.Key(), "=\x00") || set && strings.ContainsRune(v, 0) {
			return true
		}
	}
	return false
}

// snapshot returns the fuzzer's part of the environment as key → value. A
// key that is missing is unset; one mapped to "" is set and empty.
func snapshot() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, fuzzPrefix) {
			env[k] = v
		}
	}
	return env
}

func clearFuzzEnv(t *testing.T) {
	for k := range snapshot() {
		if err := os.Unsetenv(k); err != nil {
			t.Fatalf("clearing %s: %v", k, err)
		}
	}
}
