package pgginkgo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/npmpg"
)

// A template whose migration creates an extension the binaries lack fails
// with the migration's place, the server's error, and what to install.
var _ = Describe("A migration that creates an extension the binaries lack", func() {
	// prepareFails builds a template of one migration, file, and returns
	// the error Prepare fails with (Suite fails its setup with the same).
	prepareFails := func(ctx context.Context, file, sql string, opts ...pgginkgo.SuiteOption) error {
		GinkgoHelper()
		logger, logs := debugLogger()
		migrations := fstest.MapFS{file: {Data: []byte(sql)}}
		_, _, err := pgginkgo.Prepare(ctx, 2, append(opts, pgginkgo.DefineTemplate("ext", pgginkgo.SQLDir(migrations)), pgginkgo.Logger(logger))...)
		Expect(err).To(HaveOccurred(), logs.String())
		AddReportEntry("error", err.Error())
		var pgErr *pgconn.PgError
		Expect(errors.As(err, &pgErr)).To(BeTrue(), "the server's error stays reachable: %v", err)
		return err
	}

	It("names the Debian package for Debian's binaries", func(ctx SpecContext) {
		const bin = "/usr/lib/postgresql/15/bin"
		if _, err := os.Stat(filepath.Join(bin, "postgres")); err != nil {
			Skip("needs Debian's PostgreSQL 15 (apt-get install postgresql-15): " + err.Error())
		}
		if _, err := os.Stat("/usr/share/postgresql/15/extension/vector.control"); err == nil {
			Skip("pgvector is installed here, so CREATE EXTENSION vector succeeds; run this spec where it is not")
		}
		err := prepareFails(ctx, "001_vector.sql", "CREATE EXTENSION vector;\n", pgginkgo.BinariesPath(bin))
		Expect(err).To(MatchError(HavePrefix(`pgginkgo: building template "ext": template "ext", source 1: 001_vector.sql:1:1: ERROR: extension "vector" is not available (SQLSTATE 0A000)`)))
		Expect(err.Error()).To(HaveSuffix(`
  1 | CREATE EXTENSION vector;
    | ^
the migration is fine, the binaries lack an extension; the half-built template was dropped
the PostgreSQL 15 binaries in /usr/lib/postgresql/15/bin do not carry the extension "vector"; install the package that does, then run the tests again:
    apt-get install postgresql-15-pgvector
(if apt finds no such package, add the PostgreSQL project's repository, apt.postgresql.org, which has it)`))
	})

	// Both of the server's ways of refusing: 13 and 14 report the missing
	// control file (58P01), 15 and later an unavailable extension (0A000).
	DescribeTable("says that downloaded binaries carry contrib only, and which BinariesPath to use", Label(npmLabel),
		func(ctx SpecContext, major int, sqlstate string) {
			bin := npmTree(major)
			// As make test-matrix runs the suites: PGGINKGO_BINARIES names the tree.
			scope, err := envscope.ApplyContext(ctx, envscope.Set("PGGINKGO_BINARIES", filepath.Dir(bin)))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(scope.Restore)
			err = prepareFails(envscope.WithScope(ctx, scope), "001_postgis.sql", "-- maps\nCREATE EXTENSION IF NOT EXISTS postgis;\n")
			Expect(err).To(MatchError(HavePrefix(`pgginkgo: building template "ext": template "ext", source 1: 001_postgis.sql:2:1: ERROR: `)))
			Expect(err).To(MatchError(ContainSubstring(`(SQLSTATE ` + sqlstate + `)`)))
			major2 := strconv.Itoa(major)
			Expect(err.Error()).To(HaveSuffix(`
the PostgreSQL ` + major2 + ` binaries in ` + bin + ` do not carry the extension "postgis": these are downloaded embedded-postgres binaries, ` +
				`which carry PostgreSQL's contrib extensions only (pg_trgm, citext, hstore, pgcrypto and the like). ` +
				`Install PostgreSQL ` + major2 + ` with postgis (on Debian or Ubuntu: apt-get install postgresql-` + major2 + `-postgis-3) and use those binaries instead: ` +
				`pass pgginkgo.BinariesPath("/usr/lib/postgresql/` + major2 + `/bin") or set PGGINKGO_BINARIES=/usr/lib/postgresql/` + major2 + `/bin`))
		},
		Entry("PostgreSQL 13", 13, "58P01"),
		Entry("PostgreSQL 18", 18, "0A000"),
	)
})

// npmLabel marks the specs that unpack the npm PostgreSQL builds. Most of
// their time goes into decompressing them, which the race detector slows
// down severalfold, so make test runs them in a step without it.
const npmLabel = "npm"

// npmTree unpacks the matrix's release of major from $PGGINKGO_TEST_NPM_PG
// into a directory the postgres account can read, and returns its bin
// directory; it skips the spec when that variable is not set.
func npmTree(major int) string {
	GinkgoHelper()
	dir := os.Getenv(npmPGEnv)
	if dir == "" {
		Skip("set " + npmPGEnv + " to the directory of the npm PostgreSQL tarballs to run this spec: make npm-pg, then " +
			npmPGEnv + "=.cache/npm-pg (make test does this)")
	}
	rel, ok := npmpg.ForMajor(major)
	Expect(ok).To(BeTrue(), "npmpg.Matrix has no release of %d", major)
	tgz := filepath.Join(dir, rel.FileName())
	Expect(npmpg.Verify(tgz, rel)).To(Succeed(), "the npm tarball in %s=%s; make npm-pg fetches it", npmPGEnv, dir)
	root := filepath.Join(sharedCacheDir(), "pg")
	Expect(npmpg.Extract(tgz, root, rel)).To(Succeed())
	return filepath.Join(root, "bin")
}
