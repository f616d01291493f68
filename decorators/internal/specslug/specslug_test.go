package specslug_test

import (
	"fmt"
	"testing"

	"github.com/pgginkgo/pgginkgo/decorators/internal/specslug"
)

func TestOf(t *testing.T) {
	for in, want := range map[string]string{
		"inserts rows and fails":                  "inserts-rows-and-fails",
		"inserts rows and passes with KeepAlways": "inserts-rows-and-passes-with-keepalways",
		"  (a) -- b's: c!  ":                      "a-b-s-c",
		"ünïcode ✓ 42":                            "n-code-42",
		"":                                        "",
	} {
		if got := specslug.Of(in); got != want {
			t.Errorf("Of(%q) = %q, want %q", in, got, want)
		}
	}
}

func ExampleOf() {
	fmt.Println("psql-" + specslug.Of("keeps a failed spec's database, and psql reaches it") + ".txt")
	// Output: psql-keeps-a-failed-spec-s-database-and-psql-reaches-it.txt
}
