package recycle_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
)

// pgDump returns pg_dump's view of a database, schema and data, as a second
// witness next to Inspect: pg_dump knows every object kind of its server
// version. Rows inside each COPY block are sorted, because heap order is not
// state. Our change log is left out, as in Inspect. It returns "" when no
// pg_dump can read the server (binaries.ClientTool).
func pgDump(t *testing.T, db string) string {
	t.Helper()
	bin, err := binaries.ClientTool(context.Background(), srv.BinDir, "pg_dump", serverVersion(t)/10000)
	if err != nil {
		t.Logf("comparing with Inspect only: %v", err)
		return ""
	}
	out, err := exec.Command(bin, "--no-sync", "--exclude-table-data=pgginkgo.*", "--dbname="+srv.URL(db)).Output()
	if err != nil {
		t.Fatalf("pg_dump %s: %v", db, err)
	}
	// \restrict and \unrestrict carry a random key per run.
	lines := slices.DeleteFunc(strings.Split(string(out), "\n"), func(l string) bool {
		return strings.HasPrefix(l, `\restrict `) || strings.HasPrefix(l, `\unrestrict `)
	})
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "COPY ") {
			continue
		}
		end := i + 1
		for end < len(lines) && lines[end] != `\.` {
			end++
		}
		slices.Sort(lines[i+1 : end])
		i = end
	}
	return strings.Join(lines, "\n")
}

// firstDiff shows where two dumps part, with a little context.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return ""
}
