package gsql

import (
	"bytes"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"time"

	"github.com/onsi/gomega/format"
)

// valueMatcher compares a column value from the database with a plain Go
// value from a spec. Equal would be too strict: a spec says 3 where the
// database gives int64(3), or 12.5 where a numeric column gives "12.50".
type valueMatcher struct{ want any }

func (m valueMatcher) Match(actual any) (bool, error) { return sameValue(actual, m.want), nil }

func (m valueMatcher) FailureMessage(actual any) string {
	return format.Message(actual, "to equal", m.want)
}

func (m valueMatcher) NegatedFailureMessage(actual any) string {
	return format.Message(actual, "not to equal", m.want)
}

// sameValue reports whether a normalised database value equals a spec value;
// see Columns for the rules.
func sameValue(actual, want any) bool {
	if want == nil || actual == nil {
		return want == nil && actual == nil
	}
	if w, ok := want.(time.Time); ok {
		a, ok := actual.(time.Time)
		return ok && a.Equal(w)
	}
	if w, ok := want.([]byte); ok {
		a, ok := actual.([]byte)
		return ok && bytes.Equal(a, w)
	}
	if w, ok := number(want, false); ok {
		a, ok := number(actual, true)
		return ok && a.Cmp(w) == 0
	}
	if s, ok := want.(fmt.Stringer); ok {
		// uuid.UUID and netip.Addr arrive as their text.
		if a, ok := actual.(string); ok {
			return a == s.String()
		}
	}
	wv, av := reflect.ValueOf(want), reflect.ValueOf(actual)
	switch wv.Kind() {
	case reflect.String:
		// A named string type, such as an enum's Go twin, equals its text.
		return av.Kind() == reflect.String && av.String() == wv.String()
	case reflect.Bool:
		return av.Kind() == reflect.Bool && av.Bool() == wv.Bool()
	case reflect.Slice, reflect.Array:
		if av.Kind() != reflect.Slice && av.Kind() != reflect.Array || av.Len() != wv.Len() {
			return false
		}
		for i := 0; i < wv.Len(); i++ {
			if !sameValue(av.Index(i).Interface(), wv.Index(i).Interface()) {
				return false
			}
		}
		return true
	case reflect.Map:
		if av.Kind() != reflect.Map || av.Len() != wv.Len() {
			return false
		}
		for _, k := range wv.MapKeys() {
			ak := reflect.ValueOf(fmt.Sprint(k.Interface()))
			if av.Type().Key() != ak.Type() {
				return false
			}
			e := av.MapIndex(ak)
			if !e.IsValid() || !sameValue(e.Interface(), wv.MapIndex(k).Interface()) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(actual, want)
}

// number reads v as an exact number: a Go number, or with text true a string,
// which only the database side may be (numeric arrives as text; a spec's "007"
// is not the number 7). A float is read as the shortest decimal that prints
// it, which is what the spec's author wrote.
func number(v any, text bool) (*big.Rat, bool) {
	r := new(big.Rat)
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.SetInt64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return r.SetUint64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		_, ok := r.SetString(strconv.FormatFloat(rv.Float(), 'g', -1, rv.Type().Bits()))
		return r, ok
	case reflect.String:
		if text {
			_, ok := r.SetString(rv.String())
			return r, ok
		}
	}
	return nil, false
}
