package adapter

import (
	"testing"

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
