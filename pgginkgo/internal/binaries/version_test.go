package binaries

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRequestedVersionIsValidatedUpFront(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    []string
	}{
		{"banana", []string{`unsupported PostgreSQL version "banana": it is not a version`, `a major such as "15"`, "supported majors: 13, 14, 15, 16, 17, 18"}},
		{"99", []string{`unsupported PostgreSQL version "99"`, "supports PostgreSQL majors 13, 14, 15, 16, 17, 18"}},
		{"12", []string{"supports PostgreSQL majors 13, 14, 15, 16, 17, 18"}},
		{"15.x", []string{"it is not a version"}},
		{"v15", []string{"it is not a version"}},
		{"99.1.0", []string{"supports PostgreSQL majors 13"}},
	} {
		// Nothing may be searched or downloaded for a bad version: the
		// cache directory does not even exist.
		_, err := Resolve(context.Background(), Request{Version: tc.version, CacheDir: "/nonexistent"})
		if !errors.Is(err, ErrUnsupportedVersion) {
			t.Fatalf("Version %q: want ErrUnsupportedVersion, got %v", tc.version, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Version %q: error lacks %q: %v", tc.version, w, err)
			}
		}
	}
}

func TestDownloadVersionOfARequest(t *testing.T) {
	for in, want := range map[string]string{
		"":        "18.3.0", // embedded-postgres's newest, V18
		"15":      "15.13.0",
		"13":      "13.21.0",
		"15.13.0": "15.13.0",
		"16.4":    "16.4.0",
	} {
		w, err := parseWant(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := w.downloadVersion(); got != want {
			t.Errorf("%q: download %q, want %q", in, got, want)
		}
	}
}

func TestServerVersionMatching(t *testing.T) {
	for _, tc := range []struct {
		out, want string
		ok        bool
	}{
		{"postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", "15", true},
		{"postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", "", true},
		{"postgres (PostgreSQL) 15.18\n", "15.18.0", true},
		{"postgres (PostgreSQL) 15.18\n", "15.13.0", false},
		{"postgres (PostgreSQL) 15.13\n", "15.13", true},
		{"postgres (PostgreSQL) 15.13\n", "14", false},
		{"postgres (PostgreSQL) 17beta1\n", "17", true},
		{"postgres (PostgreSQL) 17beta1\n", "17.0.0", false},
		{"postgres (PostgreSQL) 12.22\n", "", false}, // too old even when any will do
		{"postgres (PostgreSQL) 9.6.24\n", "", false},
	} {
		v, err := parseServerVersion(tc.out)
		if err != nil {
			t.Fatal(err)
		}
		w, err := parseWant(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if ok, why := w.accepts(v); ok != tc.ok {
			t.Errorf("%q for %q: accepts = %v (%s), want %v", tc.out, tc.want, ok, why, tc.ok)
		}
	}
	if _, err := parseServerVersion("bash: postgres: not found"); err == nil {
		t.Error("garbage --version output was accepted")
	}
}

func TestMajorOfAServerVersion(t *testing.T) {
	for v, want := range map[string]int{"15.18": 15, "18beta1": 18, "13": 13, "": 0, "devel": 0} {
		if got := Major(v); got != want {
			t.Errorf("Major(%q) = %d, want %d", v, got, want)
		}
	}
}
