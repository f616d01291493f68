// Package postgis is a suite whose template creates PostGIS.
// decorators/postgis_test.go runs it through the ginkgo CLI, on one
// process, and checks its report: a spec stores a geometry, and the next
// spec gets the same database back, recycled and clean.
//
// It lives under testdata so that `go test ./...` and `ginkgo -r` never run
// it by accident: on a machine without PostGIS its setup fails.
package postgis

import (
	"os"
	"strconv"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestPostGIS(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "pgginkgo PostGIS fixture")
}

// One database per process: the second spec can only get a database that
// was recycled after the first, or a replacement with a new name.
var _ = pgginkgo.Suite(pgginkgo.DefineTemplate("places", pgginkgo.SQLDir(os.DirFS("migrations"))), pgginkgo.Prefetch(1))

// What the first spec saw, for the second: Ginkgo runs them one after the
// other, in this order, on the one process the outer test starts.
var first struct {
	database string
	srids    int // rows of spatial_ref_sys before the spec wrote
}

var _ = Describe("places", decorators.FreshDatabase(), func() {
	It("stores a geometry and measures it", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx)
		first.database = db.Name()
		AddReportEntry("database", db.Name())
		pool := db.Pool()
		Expect(pool.QueryRow(ctx, `SELECT count(*) FROM spatial_ref_sys`).Scan(&first.srids)).To(Succeed())
		Expect(first.srids).To(BeNumerically(">", 1000), "CREATE EXTENSION postgis fills spatial_ref_sys")

		_, err := pool.Exec(ctx, `INSERT INTO places (name, geom) VALUES ('Berlin', ST_GeomFromText('POINT(13.405 52.52)', 4326))`)
		Expect(err).NotTo(HaveOccurred())
		_, err = pool.Exec(ctx, `INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, proj4text)
			VALUES (990001, 'fixture', 990001, '+proj=longlat +datum=WGS84 +no_defs')`)
		Expect(err).NotTo(HaveOccurred())

		var text string
		var km float64
		Expect(pool.QueryRow(ctx, `SELECT ST_AsText(geom),
			round(ST_Distance(geom::geography, ST_GeomFromText('POINT(2.3522 48.8566)', 4326)::geography) / 1000)
			FROM places WHERE name = 'Berlin'`).Scan(&text, &km)).To(Succeed())
		Expect(text).To(Equal("POINT(13.405 52.52)"))
		Expect(km).To(BeNumerically("~", 878, 2), "Berlin to Paris, in km")
	})

	It("starts from a clean database", func(ctx SpecContext) {
		Expect(first.database).NotTo(BeEmpty(), "the first spec ran before this one")
		db := pgginkgo.DB(ctx)
		AddReportEntry("database", db.Name())
		pool := db.Pool()
		var places, srids, ours int
		Expect(pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM places), count(*), count(*) FILTER (WHERE srid = 990001)
			FROM spatial_ref_sys`).Scan(&places, &srids, &ours)).To(Succeed())
		Expect(places).To(BeZero(), "the first spec's geometry is gone")
		Expect(ours).To(BeZero(), "the first spec's spatial reference system is gone")
		Expect(srids).To(Equal(first.srids), "spatial_ref_sys is as PostGIS filled it")

		// The same database, reset in place rather than dropped and cloned.
		Expect(db.Name()).To(Equal(first.database))
		stats := pgginkgo.ProcessStats()
		AddReportEntry("recycles", strconv.Itoa(len(stats.Recycles)))
		AddReportEntry("replaces", strconv.Itoa(len(stats.Replaces)))
		Expect(stats.Recycles).To(HaveLen(1))
		Expect(stats.Replaces).To(BeEmpty(), "replaced because: %v", stats.Causes)
	})
})
