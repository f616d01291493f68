package binaries

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNoTimezoneData is wrapped by the error of TimezoneDir when a PostgreSQL build has no time zone database.
var ErrNoTimezoneData = errors.New("no time zone data")

// TimezoneDir returns the directory from which the PostgreSQL of res reads
// named time zones, or an error wrapping ErrNoTimezoneData that says how to
// provide them.
//
// Without that data PostgreSQL still starts, but initdb silently sets
// timezone = 'UTC0' and every named zone ('Europe/Paris', even 'UTC' in
// SET TIME ZONE) is rejected, which surfaces much later as a confusing test
// failure. PostgreSQL reads the zones from a directory fixed at build time:
// either the system's tzdata (built --with-system-tzdata, as Debian does) or
// its own share/postgresql/timezone (relocatable builds such as
// embedded-postgres's). It does not consult the TZDIR environment variable,
// so there is nothing to set for the server: the data must be where the build
// looks.
func TimezoneDir(res Result) (string, error) {
	postgres := filepath.Join(res.BinDir, exe("postgres"))
	system, err := compiledTimezoneDir(postgres)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", postgres, err)
	}
	if system != "" {
		if hasZones(system) {
			return system, nil
		}
		return "", fmt.Errorf("%w: PostgreSQL in %s reads time zones from %s (built with --with-system-tzdata), which is missing or empty; install tzdata (apt-get install tzdata, apk add tzdata, dnf install tzdata)",
			ErrNoTimezoneData, res.BinDir, system)
	}

	candidates := []string{
		filepath.Join(res.Root, "share", "postgresql", "timezone"),
		filepath.Join(res.Root, "share", "timezone"),
	}
	if share := pgConfigShareDir(res.BinDir); share != "" {
		candidates = append(candidates, filepath.Join(share, "timezone"))
	}
	for _, dir := range candidates {
		if hasZones(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w: PostgreSQL in %s has no time zone data (looked in %s); use a complete installation, or install tzdata (apt-get install tzdata) and link it in: ln -s /usr/share/zoneinfo %s (PostgreSQL ignores TZDIR)",
		ErrNoTimezoneData, res.BinDir, strings.Join(candidates, ", "), candidates[0])
}

// hasZones checks for a zone every tz database has, rather than just the
// directory: an empty or half-removed directory is as bad as none.
func hasZones(dir string) bool {
	for _, zone := range []string{"UTC", filepath.Join("Etc", "UTC"), "GMT"} {
		if fileExists(filepath.Join(dir, zone)) {
			return true
		}
	}
	return false
}

// pgConfigShareDir asks the pg_config next to the server, if there is one,
// for its share directory. Not the pg_config on PATH: that may belong to
// another installation.
func pgConfigShareDir(binDir string) string {
	pgConfig := filepath.Join(binDir, exe("pg_config"))
	if !isExecutable(pgConfig) {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), versionTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, pgConfig, "--sharedir").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// compiledTimezoneDir finds the --with-system-tzdata directory a server was
// built with. The postgres binary embeds its configure arguments (for the
// pg_config view), and unlike a pg_config program, which client-only or
// relocatable packages often lack, the server binary is always there. It
// returns "" for builds that use their own share/timezone.
func compiledTimezoneDir(postgres string) (string, error) {
	f, err := os.Open(postgres)
	if err != nil {
		return "", err
	}
	defer f.Close()

	needle := []byte("--with-system-tzdata=")
	const chunkSize, overlap = 1 << 20, 4096 // overlap: a needle and a path may straddle chunks
	chunk := make([]byte, chunkSize)
	var window []byte
	for {
		n, readErr := f.Read(chunk)
		window = append(window, chunk[:n]...)
		if i := bytes.Index(window, needle); i >= 0 {
			value := window[i+len(needle):]
			if end := bytes.IndexAny(value, "' \"\x00\n"); end >= 0 {
				return string(value[:end]), nil
			}
			if readErr == nil && len(value) < overlap {
				continue // the value goes on in the next chunk
			}
			return "", fmt.Errorf("unterminated --with-system-tzdata in its configure arguments")
		}
		if errors.Is(readErr, io.EOF) {
			return "", nil
		}
		if readErr != nil {
			return "", readErr
		}
		if len(window) > overlap {
			window = append(window[:0], window[len(window)-overlap:]...)
		}
	}
}
