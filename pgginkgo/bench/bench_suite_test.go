package bench_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// The benchmarks run only when asked: they take a minute and print figures
// rather than assert behaviour.
func TestBench(t *testing.T) {
	if os.Getenv("PGGINKGO_BENCH") != "1" {
		t.Skip("set PGGINKGO_BENCH=1 (make bench does) to run the benchmarks")
	}
	if os.Geteuid() == 0 {
		t.Skip("embedded-postgres's initdb refuses root; make bench runs this binary as nobody")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "benchmarks")
}

var schemaDir = func() string {
	dir, err := os.MkdirTemp("", "pgginkgo-bench-schema-")
	if err != nil {
		panic(err)
	}
	must(os.WriteFile(filepath.Join(dir, "001_schema.sql"), []byte(benchSchema()), 0o644))
	must(os.WriteFile(filepath.Join(dir, "002_seed.sql"), []byte(benchSeed), 0o644))
	return dir
}()

var _ = pgginkgo.Suite(pgginkgo.DefineTemplate("bench", pgginkgo.SQLDir(os.DirFS(schemaDir))))

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// benchSchema is 20 tables with primary keys, foreign keys and secondary
// indexes: a chain of parent/child tables like an application's.
func benchSchema() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE t01 (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, code text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());\n")
	b.WriteString("CREATE INDEX t01_name_idx ON t01 (name);\n")
	for i := 2; i <= 20; i++ {
		fmt.Fprintf(&b, `CREATE TABLE t%02d (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	parent_id bigint REFERENCES t%02d(id) ON DELETE CASCADE,
	label text NOT NULL,
	amount numeric(12,2) NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX t%02d_parent_idx ON t%02d (parent_id);
CREATE INDEX t%02d_label_idx ON t%02d (label);
`, i, i-1, i, i, i, i)
	}
	return b.String()
}

// benchSeed seeds t01 with 1000 rows, like reference data.
const benchSeed = `INSERT INTO t01 (name, code) SELECT 'name ' || g, 'code-' || g FROM generate_series(1, 1000) g;`

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

func ratioLine(label string, ours, baseline time.Duration) string {
	return fmt.Sprintf("%s: ours=%.3f baseline=%.3f ratio=%.1f", label, ms(ours), ms(baseline), float64(baseline)/float64(max(ours, time.Nanosecond)))
}

// results collects the lines printed at the end, in order.
var results []string

var _ = ReportAfterSuite("print results", func(Report) {
	os.RemoveAll(schemaDir)
	results = append(results, freshFigures()...)
	results = append(results, packageResults...)
	fmt.Println() // end Ginkgo's line of progress dots
	for _, l := range results {
		fmt.Println(l)
	}
})

func expectOK(err error) { ExpectWithOffset(1, err).NotTo(HaveOccurred()) }
