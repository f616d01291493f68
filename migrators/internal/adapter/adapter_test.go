package adapter

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
)

func TestToolVersion(t *testing.T) {
	// A test binary's build info lists no dependencies, so only the
	// function's source path can tell.
	if got := ToolVersion("github.com/jackc/pgx/v5", pgx.Connect); got != "v5.12.0" {
		t.Errorf(`ToolVersion("github.com/jackc/pgx/v5", pgx.Connect) = %q, want "v5.12.0"`, got)
	}
	if got := ToolVersion("github.com/jackc/pgx", pgx.Connect); got != "unknown" {
		t.Errorf("a module path that is only a prefix of the function's: got %q, want unknown", got)
	}
	if got := ToolVersion("github.com/jackc/pgx/v5", nil); got != "unknown" {
		t.Errorf("without a function: got %q, want unknown", got)
	}
}

func TestModuleEscaping(t *testing.T) {
	if got := escapeModule("github.com/BurntSushi/toml"); got != "github.com/!burnt!sushi/toml" {
		t.Errorf("escapeModule = %q", got)
	}
	if got := unescapeModule("v1.0.0-!r!c1"); got != "v1.0.0-RC1" {
		t.Errorf("unescapeModule = %q", got)
	}
}

func TestApplyRunsOptionsInOrder(t *testing.T) {
	type config struct{ steps []string }
	type option func(*config)
	step := func(s string) option { return func(c *config) { c.steps = append(c.steps, s) } }
	var c config
	Apply(&c, []option{step("a"), step("b"), step("c")})
	if got := strings.Join(c.steps, ","); got != "a,b,c" {
		t.Errorf("Apply ran %q, want a,b,c", got)
	}
}

func TestFilesFingerprint(t *testing.T) {
	fsys := fstest.MapFS{"1_a.sql": {Data: []byte("SELECT 1")}}
	digest, err := FilesDigest(fsys)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := FilesFingerprint("pgxmigrator", "pgx", "github.com/jackc/pgx/v5", pgx.Connect, fsys, nil)
	if want := "pgx:v5.12.0:files=" + digest; err != nil || fp != want {
		t.Errorf("FilesFingerprint = %q, %v; want %q", fp, err, want)
	}
	_, err = FilesFingerprint("pgxmigrator", "pgx", "github.com/jackc/pgx/v5", pgx.Connect, fstest.MapFS{}, nil)
	if want := "pgxmigrator: the migrations directory holds no files"; err == nil || err.Error() != want {
		t.Errorf("FilesFingerprint of an empty directory: %v; want %s", err, want)
	}
	optionErrs := []error{errors.New("pgxmigrator.Table: the table name is empty"), errors.New("pgxmigrator.Go: no migrations given")}
	_, err = FilesFingerprint("pgxmigrator", "pgx", "github.com/jackc/pgx/v5", pgx.Connect, fstest.MapFS{}, optionErrs)
	if want := "pgxmigrator.Table: the table name is empty\npgxmigrator.Go: no migrations given"; err == nil || err.Error() != want {
		t.Errorf("FilesFingerprint after option mistakes: %v; want them, before the files are read:\n%s", err, want)
	}
}
