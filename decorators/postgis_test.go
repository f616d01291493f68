package decorators_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// requirePostGISEnv makes the PostGIS specs fail instead of skipping when
// the server lacks PostGIS: make test installs it.
const requirePostGISEnv = "PGGINKGO_TEST_REQUIRE_POSTGIS"

// A fixture run starts a cluster of its own, so this is Serial, as the
// other fixture runs are.
var _ = Describe("A PostGIS template", Serial, func() {
	It("gives the spec after one that inserts a geometry the same database, recycled and clean",
		decorators.FreshDatabase(pgginkgo.FromTemplate("schema")), NodeTimeout(3*time.Minute), func(ctx SpecContext) {
			needPostGIS(ctx)
			run := runFixtureWith(ctx, fixtureOptions{dir: "./testdata/postgis"}, "postgis", 1)
			Expect(run.exit).To(BeZero(), "the PostGIS fixture fails:\n%s", run.console)
			Expect(run.clustersStarted()).To(HaveLen(1))

			stored := run.spec("stores a geometry and measures it")
			clean := run.spec("starts from a clean database")
			Expect(stored.State).To(Equal(types.SpecStatePassed))
			Expect(clean.State).To(Equal(types.SpecStatePassed))
			Expect(clean.StartTime).To(BeTemporally(">", stored.EndTime), "run in order")
			Expect(entry(clean, "database")).To(Equal(entry(stored, "database")), "the second spec got the first one's database back")
			Expect(entry(clean, "recycles")).To(Equal("1"), "reset in place")
			Expect(entry(clean, "replaces")).To(Equal("0"), "not dropped and cloned anew")
		})
})

// needPostGIS skips the spec when the suite's server lacks PostGIS, which
// the fixture's (found the same way) then lacks too, or fails it when
// PGGINKGO_TEST_REQUIRE_POSTGIS=1. Downloaded binaries carry contrib only,
// so with those it always skips.
func needPostGIS(ctx SpecContext) {
	GinkgoHelper()
	var available bool
	Expect(pgginkgo.DB(ctx).Pool().QueryRow(ctx,
		`SELECT EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'postgis')`).Scan(&available)).To(Succeed())
	if available {
		return
	}
	bin := pgginkgo.Cluster().BinDir
	root := filepath.Dir(bin)
	for _, marker := range []string{".pgginkgo-binaries.json", ".pgginkgo-npm-release"} {
		if _, err := os.Stat(filepath.Join(root, marker)); err == nil {
			Skip("PostGIS is not available: the binaries in " + bin + " are downloaded ones, which carry contrib extensions only")
		}
	}
	if os.Getenv(requirePostGISEnv) == "1" {
		Fail("PostGIS is not available to the server (binaries " + bin + "), and " + requirePostGISEnv + "=1 requires it: apt-get install postgresql-<major>-postgis-3")
	}
	Skip("PostGIS is not available to the server (binaries " + bin + "): apt-get install postgresql-<major>-postgis-3 to run this spec; " +
		requirePostGISEnv + "=1 makes this a failure")
}
