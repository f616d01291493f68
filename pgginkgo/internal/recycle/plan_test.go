package recycle

import (
	"slices"
	"testing"
)

func TestSplitTruncatable(t *testing.T) {
	// a ← b ← c (b references a, c references b); d references itself;
	// e is referenced by an unchanged table x.
	big := []dirtyTable{
		{oid: 1, name: "a", referencedBy: []uint32{2}},
		{oid: 2, name: "b", referencedBy: []uint32{3}},
		{oid: 3, name: "c"},
		{oid: 4, name: "d", referencedBy: []uint32{4}},
		{oid: 5, name: "e", referencedBy: []uint32{99}},
	}
	names := func(ts []dirtyTable) (out []string) {
		for _, t := range ts {
			out = append(out, t.name)
		}
		return out
	}
	trunc, del := splitTruncatable(big, nil)
	if got := names(trunc); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("truncate %v", got)
	}
	if got := names(del); !slices.Equal(got, []string{"e"}) {
		t.Errorf("delete %v", got)
	}
	// Without c, b cannot be truncated, and then neither can a.
	trunc, del = splitTruncatable([]dirtyTable{big[0], big[1]}, []dirtyTable{{oid: 3, name: "c"}})
	if got := names(trunc); len(got) != 0 {
		t.Errorf("truncate %v, want none", got)
	}
	if got := names(del); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Errorf("delete %v", got)
	}
}
