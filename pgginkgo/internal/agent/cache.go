//go:build !windows

package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	embeddedpostgres "github.com/fergusstrange/embedded-postgres"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
)

// hbaConf replaces initdb's pg_hba.conf in the cache. The socket directory is
// private (0700) to the cluster's account, so trust there is what peer
// authentication would give; TCP always needs the per-run password.
const hbaConf = `# Written by pgginkgo.
# The unix socket lives in a 0700 directory owned by the cluster's account.
local   all   all                 trust
host    all   all   127.0.0.1/32  scram-sha-256
host    all   all   ::1/128       scram-sha-256
`

const completeMarker = "pgginkgo-complete"

// CacheKey names the warm data directory for one combination of binaries,
// version, superuser, locale and encoding.
func CacheKey(cfg Config) string {
	h := sha256.Sum256([]byte(strings.Join([]string{cfg.BinDir, cfg.Version, cfg.User, cfg.Locale, cfg.Encoding}, "\x00")))
	return fmt.Sprintf("pg%s-%s", cfg.Version, hex.EncodeToString(h[:6]))
}

// ensureCache returns a cleanly shut-down, freshly initdb'd data directory,
// building it with embedded-postgres when missing. Concurrent first runs
// serialise on a file lock, and the second one finds the cache built.
func ensureCache(ctx context.Context, cfg Config, o *out) (dir string, hit bool, err error) {
	root := filepath.Join(cfg.CacheDir, "initdb")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", false, fmt.Errorf("creating the initdb cache %s: %w (make it writable, or pass pgginkgo.CacheDir)", root, err)
	}
	key := CacheKey(cfg)
	dir = filepath.Join(root, key)
	if complete(dir) {
		return dir, true, nil
	}
	lock, err := flock.Wait(ctx, dir+".lock", nil)
	if err != nil {
		return "", false, fmt.Errorf("locking the initdb cache: %w", err)
	}
	defer lock.Release()
	if complete(dir) {
		return dir, true, nil // another process built it while we waited
	}
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	began := time.Now()
	o.log("INFO", "building the initdb cache (first run for this version)", map[string]any{"key": key})
	_ = os.RemoveAll(dir) // an incomplete build of a crashed run
	tmp, err := os.MkdirTemp(root, key+".build-")
	if err != nil {
		return "", false, fmt.Errorf("creating a build directory in the initdb cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	data := filepath.Join(tmp, "data")
	if err := initdb(cfg, tmp, data); err != nil {
		return "", false, err
	}
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hbaConf), 0o600); err != nil {
		return "", false, err
	}
	// Leftovers of the build boot that must not be copied into every cluster.
	for _, f := range []string{"postmaster.opts", "postmaster.pid"} {
		_ = os.Remove(filepath.Join(data, f))
	}
	shrinkWAL(cfg, data, o)
	if err := os.WriteFile(filepath.Join(data, completeMarker), nil, 0o600); err != nil {
		return "", false, err
	}
	if err := os.Rename(data, dir); err != nil {
		return "", false, fmt.Errorf("moving the built data directory into the cache: %w", err)
	}
	o.log("INFO", "initdb cache built", map[string]any{"key": key, "took": time.Since(began).String()})
	return dir, false, nil
}

func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, completeMarker))
	return err == nil
}

// initdb lets embedded-postgres run initdb and one clean start/stop cycle,
// which leaves a data directory that every later boot can copy and start
// without recovery.
func initdb(cfg Config, tmp, data string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	// Unix socket paths are limited to 107 bytes, and the cache may sit
	// deep in a home directory: the build's socket goes in the short
	// runtime base instead.
	sock, err := os.MkdirTemp(cfg.BaseDir, "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(sock)
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	var logBuf bytes.Buffer
	params := map[string]string{
		"unix_socket_directories": sock,
		"listen_addresses":        "localhost",
		"fsync":                   "off",
	}
	epCfg := embeddedpostgres.DefaultConfig().
		Version(embeddedpostgres.PostgresVersion(cfg.Version)).
		BinariesPath(cfg.BinRoot).
		RuntimePath(filepath.Join(tmp, "runtime")).
		DataPath(data).
		CachePath(filepath.Join(tmp, "archives")).
		Username(cfg.User).
		Password(hex.EncodeToString(pw)).
		Database("postgres").
		Port(uint32(port)).
		Locale(cfg.Locale).
		Encoding(cfg.Encoding).
		StartParameters(params).
		StartTimeout(2 * time.Minute).
		Logger(&logBuf)
	ep := embeddedpostgres.NewDatabase(epCfg)
	if err := ep.Start(); err != nil {
		return fmt.Errorf("initdb via embedded-postgres failed: %w\n%s", err, logBuf.String())
	}
	if err := ep.Stop(); err != nil {
		return fmt.Errorf("stopping the initdb cache cluster: %w\n%s", err, logBuf.String())
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		return errors.New("initdb produced no PG_VERSION; see the log above")
	}
	return nil
}

// shrinkWAL cuts the WAL segment from 16 MB to 1 MB when pg_resetwal is
// available: every boot copies the data directory, and the segment is most of
// what it writes. Binaries without pg_resetwal keep the default.
func shrinkWAL(cfg Config, data string, o *out) {
	tool := filepath.Join(cfg.BinDir, "pg_resetwal")
	if _, err := os.Stat(tool); err != nil {
		return
	}
	cmd := exec.Command(tool, "--wal-segsize=1", "-D", data)
	cmd.Env = postgresEnv(cfg)
	if b, err := cmd.CombinedOutput(); err != nil {
		o.log("WARN", "pg_resetwal could not shrink the WAL segment; keeping the default", map[string]any{"output": string(b)})
	}
}
