package template

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateDatabaseName(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"pgginkgo_p1_000123", ""},
		{"_x", ""},
		{"", `invalid database name "": it is empty`},
		{strings.Repeat("a", 64), `invalid database name "` + strings.Repeat("a", 64) + `": it is 64 bytes long; PostgreSQL keeps only 63 and would silently truncate it, so use a shorter name`},
		{"1abc", `invalid database name "1abc": it starts with a digit; start it with a letter or underscore`},
		{"my-db", `invalid database name "my-db": character '-' at byte 2 is not allowed; use lower-case letters, digits and underscores`},
		{"Users", `invalid database name "Users": character 'U' at byte 0 is not allowed; use lower-case letters, digits and underscores`},
	} {
		err := ValidateDatabaseName(tc.name)
		if tc.want == "" {
			if err != nil {
				t.Errorf("ValidateDatabaseName(%q) = %v, want nil", tc.name, err)
			}
			continue
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("ValidateDatabaseName(%q) = %v\nwant %s", tc.name, err, tc.want)
		}
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateDatabaseName(%q): error does not match ErrInvalidName", tc.name)
		}
	}
}

func TestValidateTemplateName(t *testing.T) {
	for _, ok := range []string{"schema", "schema+seed", "v1.2:big-data_x"} {
		if err := ValidateTemplateName(ok); err != nil {
			t.Errorf("ValidateTemplateName(%q) = %v", ok, err)
		}
	}
	long := strings.Repeat("x", 33)
	for name, want := range map[string]string{
		"":          `invalid template name "": it is empty; give each template a short name such as "schema"`,
		long:        `invalid template name "` + long + `": it is 33 bytes long, the limit is 32; use a shorter name`,
		"my schema": `invalid template name "my schema": character ' ' at byte 2 is not allowed; use letters, digits and _ + - . :`,
	} {
		err := ValidateTemplateName(name)
		if err == nil || err.Error() != want || !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateTemplateName(%q) = %v\nwant %s", name, err, want)
		}
	}
}

func TestTemplateDatabaseName(t *testing.T) {
	hash := strings.Repeat("0123456789abcdef", 4)
	for name, want := range map[string]string{
		"schema":                           "pgginkgo_tpl_schema_0123456789abcdef",
		"Schema+Seed":                      "pgginkgo_tpl_schema_seed_0123456789abcdef",
		"+++":                              "pgginkgo_tpl_0123456789abcdef",
		"a-very.long:template_name+with-x": "pgginkgo_tpl_a_very_long_template_name_with_x_0123456789abcdef",
	} {
		got := templateDatabaseName("pgginkgo", name, hash)
		if got != want {
			t.Errorf("templateDatabaseName(%q) = %q, want %q", name, got, want)
		}
		if err := ValidateDatabaseName(got); err != nil {
			t.Errorf("derived name is invalid: %v", err)
		}
	}
	// The longest prefix and name still fit, the readable part cut short.
	got := templateDatabaseName("abcdefghijklmnopqrst", strings.Repeat("n", 32), hash)
	if want := "abcdefghijklmnopqrst_tpl_nnnnnnnnnnnnnnnnnnnnn_0123456789abcdef"; got != want || len(got) != MaxNameBytes {
		t.Errorf("long prefix and name: got %q (%d bytes), want %q", got, len(got), want)
	}
}
