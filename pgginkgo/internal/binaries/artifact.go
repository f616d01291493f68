package binaries

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// defaultRepositoryURL is embedded-postgres's default repository. It is
// repeated here only to name the URL in messages; the download itself uses
// embedded-postgres's own default when Request.RepositoryURL is empty.
const defaultRepositoryURL = "https://repo1.maven.org/maven2"

// artifact is one zonky embedded-postgres-binaries release for this machine:
// what embedded-postgres will fetch, and where this package keeps it.
type artifact struct {
	version  string // "15.13.0"
	platform string // "linux-amd64", "linux-arm64v8-alpine", "darwin-arm64v8"
	repo     string // repository base URL, without a trailing slash
	archives string // CacheDir/archives: embedded-postgres's CachePath
	binaries string // CacheDir/binaries: holds one directory per artifact
}

func newArtifact(cacheDir, repo, version string) artifact {
	repo = strings.TrimRight(repo, "/") // embedded-postgres appends "/io/zonky/…"
	return artifact{
		version:  version,
		platform: zonkyPlatform(runtime.GOOS, runtime.GOARCH, version),
		repo:     repo,
		archives: filepath.Join(cacheDir, "archives"),
		binaries: filepath.Join(cacheDir, "binaries"),
	}
}

// name is the per-version key, e.g. "linux-amd64-15.13.0". It includes the
// zonky platform rather than just GOOS/GOARCH, so that a cache shared between
// a glibc and an Alpine (musl) container keeps their binaries apart.
func (a artifact) name() string { return a.platform + "-" + a.version }

// dir is where the extracted tree lives once complete.
func (a artifact) dir() string { return filepath.Join(a.binaries, a.name()) }

// archive is the .txz embedded-postgres caches, named as its cache locator
// names it.
func (a artifact) archive() string {
	return filepath.Join(a.archives, "embedded-postgres-binaries-"+a.name()+".txz")
}

// coordinates are the Maven coordinates, for telling users what a mirror
// must have.
func (a artifact) coordinates() string {
	return "io.zonky.test.postgres:embedded-postgres-binaries-" + a.platform + ":" + a.version
}

// jarURL is the URL embedded-postgres fetches, for messages.
func (a artifact) jarURL() string {
	repo := a.repo
	if repo == "" {
		repo = defaultRepositoryURL
	}
	return fmt.Sprintf("%s/io/zonky/test/postgres/embedded-postgres-binaries-%s/%s/embedded-postgres-binaries-%s-%s.jar",
		repo, a.platform, a.version, a.platform, a.version)
}

// zonkyPlatform mirrors how embedded-postgres names the platform of the
// binaries it downloads (its version strategy), because the archive's file
// name and the URL depend on it and embedded-postgres does not export it.
func zonkyPlatform(goos, arch, version string) string {
	switch goos {
	case "linux":
		switch arch {
		case "arm64":
			arch = "arm64v8"
		case "arm":
			out, _ := exec.Command("uname", "-m").Output()
			switch {
			case strings.HasPrefix(string(out), "armv7"):
				arch = "arm32v7"
			case strings.HasPrefix(string(out), "armv6"):
				arch = "arm32v6"
			}
		}
		if _, err := os.Stat("/etc/alpine-release"); err == nil {
			arch += "-alpine"
		}
	case "darwin":
		// zonky has no Apple-silicon builds before 14.2; embedded-postgres
		// then falls back to the Intel ones, which run under Rosetta.
		if arch == "arm64" {
			var major, minor int
			if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err == nil && (major < 14 || major == 14 && minor < 2) {
				arch = "amd64"
			} else {
				arch = "arm64v8"
			}
		}
	}
	return goos + "-" + arch
}
