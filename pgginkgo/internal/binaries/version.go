package binaries

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	embeddedpostgres "github.com/fergusstrange/embedded-postgres"
)

// ErrUnsupportedVersion is wrapped by the error Resolve returns when
// Request.Version is not a version pgginkgo can run.
var ErrUnsupportedVersion = errors.New("unsupported PostgreSQL version")

// downloadVersions maps each supported major to the full version
// embedded-postgres downloads for it. embedded-postgres also knows 9.6 to 12,
// but pgginkgo relies on PostgreSQL 13 features (DROP DATABASE … WITH (FORCE))
// and those majors are past end of life, so they are refused up front rather
// than failing later in a less obvious place.
var downloadVersions = map[int]embeddedpostgres.PostgresVersion{
	13: embeddedpostgres.V13,
	14: embeddedpostgres.V14,
	15: embeddedpostgres.V15,
	16: embeddedpostgres.V16,
	17: embeddedpostgres.V17,
	18: embeddedpostgres.V18,
}

// minMajor is the oldest major pgginkgo accepts, also for installed servers
// found when no version was requested.
const minMajor = 13

// supportedMajors lists the majors of downloadVersions in ascending order,
// for error messages and for picking the newest default.
func supportedMajors() []int {
	return slices.Sorted(maps.Keys(downloadVersions))
}

func supportedList() string {
	parts := make([]string, 0, len(downloadVersions))
	for _, m := range supportedMajors() {
		parts = append(parts, strconv.Itoa(m))
	}
	return strings.Join(parts, ", ")
}

// want is a parsed Request.Version. The zero value means "any version".
type want struct {
	raw   string
	major int // 0: any
	minor int // -1: any minor of major
}

var fullVersionRE = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?$`)

// parseWant validates a requested version once, up front, so that a typo
// fails before anything is searched or downloaded.
func parseWant(s string) (want, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return want{minor: -1}, nil
	}
	w := want{raw: s, minor: -1}
	if m, err := strconv.Atoi(s); err == nil {
		w.major = m
	} else if parts := fullVersionRE.FindStringSubmatch(s); parts != nil {
		w.major, _ = strconv.Atoi(parts[1])
		w.minor, _ = strconv.Atoi(parts[2])
	} else {
		return want{}, fmt.Errorf("%w %q: it is not a version; pass a major such as \"15\", a full version such as %q, or \"\" for any (supported majors: %s)",
			ErrUnsupportedVersion, s, string(embeddedpostgres.V15), supportedList())
	}
	if _, ok := downloadVersions[w.major]; !ok {
		return want{}, fmt.Errorf("%w %q: pgginkgo supports PostgreSQL majors %s; pass one of them (e.g. \"15\"), or \"\" for any",
			ErrUnsupportedVersion, s, supportedList())
	}
	return w, nil
}

// downloadVersion is the version embedded-postgres should fetch: the newest
// supported major when any will do, the major's pinned release for a bare
// major, or exactly what was asked for. zonky publishes three-part versions
// ("15.13.0"), so a two-part request gets ".0" appended.
func (w want) downloadVersion() string {
	switch {
	case w.major == 0:
		majors := supportedMajors()
		return string(downloadVersions[majors[len(majors)-1]])
	case w.minor < 0:
		return string(downloadVersions[w.major])
	case strings.Count(w.raw, ".") == 1:
		return w.raw + ".0"
	default:
		return w.raw
	}
}

// accepts reports whether a server of the given version satisfies the
// request, and if not, why. A full request compares major and minor only:
// the third part of zonky's versions is their packaging revision, and the
// server reports "15.13" for "15.13.0".
func (w want) accepts(v serverVersion) (bool, string) {
	if v.major < minMajor {
		return false, fmt.Sprintf("PostgreSQL %s is older than %d, the oldest pgginkgo supports", v.text, minMajor)
	}
	if w.major != 0 && v.major != w.major {
		return false, fmt.Sprintf("PostgreSQL %s is major %d, but %s was requested", v.text, v.major, w.raw)
	}
	if w.minor >= 0 && v.minor != w.minor {
		return false, fmt.Sprintf("PostgreSQL %s is not %s, which was requested exactly", v.text, w.raw)
	}
	return true, ""
}

// Major is the major of a server version as the server reports it:
// 15 for "15.18", 18 for "18beta1"; 0 when there is none.
func Major(version string) int {
	digits := len(version) - len(strings.TrimLeft(version, "0123456789"))
	n, _ := strconv.Atoi(version[:digits])
	return n
}

// serverVersion is what `postgres --version` reported.
type serverVersion struct {
	text  string // "15.18", "17beta1"
	major int
	minor int // -1 for pre-releases such as "17beta1"
}

// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", "… 17beta1".
var serverVersionRE = regexp.MustCompile(`\(PostgreSQL\) ((\d+)(?:\.(\d+))?\S*)`)

func parseServerVersion(out string) (serverVersion, error) {
	parts := serverVersionRE.FindStringSubmatch(out)
	if parts == nil {
		return serverVersion{}, fmt.Errorf("unexpected output of postgres --version: %q", strings.TrimSpace(out))
	}
	v := serverVersion{text: parts[1], minor: -1}
	v.major, _ = strconv.Atoi(parts[2])
	if parts[3] != "" {
		v.minor, _ = strconv.Atoi(parts[3])
	}
	return v, nil
}
