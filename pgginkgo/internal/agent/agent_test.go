//go:build !windows

package agent

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
)

func TestSweepRemovesDeadClustersOnly(t *testing.T) {
	base := t.TempDir()
	dead := filepath.Join(base, "c-dead")
	alive := filepath.Join(base, "c-alive")
	young := filepath.Join(base, "c-young") // created, lock file not yet created
	// An agent creates the lock file, locks it, then writes owner.json: a
	// free lock without owner.json may be an agent between the two.
	booting := filepath.Join(base, "c-booting")
	other := filepath.Join(base, "not-a-cluster")
	for _, d := range []string{dead, alive, young, booting, other} {
		must(t, os.MkdirAll(filepath.Join(d, "data"), 0o700))
	}
	must(t, os.WriteFile(filepath.Join(dead, "lock"), nil, 0o600))
	must(t, os.WriteFile(filepath.Join(dead, "owner.json"), []byte(`{"agentPid": 1}`), 0o600))
	must(t, os.WriteFile(filepath.Join(booting, "lock"), nil, 0o600))
	lock, err := flock.Try(filepath.Join(alive, "lock"), false)
	must(t, err)
	defer lock.Release()

	var buf bytes.Buffer
	removed := sweep(base, &out{w: &buf})

	if removed != 1 {
		t.Errorf("removed %d clusters, want 1", removed)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("dead cluster still there: %v", err)
	}
	for _, d := range []string{alive, young, booting, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed: %v", d, err)
		}
	}
	var m Message
	must(t, json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &m))
	if m.Type != "log" || !strings.Contains(m.Msg, "removed stale cluster") || m.Attrs["dir"] != dead {
		t.Errorf("sweep log: %+v", m)
	}
}

func TestCacheKeyChangesWithInputs(t *testing.T) {
	base := Config{BinDir: "/usr/lib/postgresql/15/bin", Version: "15.18", User: "postgres", Locale: "C", Encoding: "UTF8"}
	keys := map[string]bool{CacheKey(base): true}
	for _, c := range []Config{
		{BinDir: "/opt/pg/bin", Version: "15.18", User: "postgres", Locale: "C", Encoding: "UTF8"},
		{BinDir: base.BinDir, Version: "15.17", User: "postgres", Locale: "C", Encoding: "UTF8"},
		{BinDir: base.BinDir, Version: "15.18", User: "admin", Locale: "C", Encoding: "UTF8"},
		{BinDir: base.BinDir, Version: "15.18", User: "postgres", Locale: "C.UTF-8", Encoding: "UTF8"},
		{BinDir: base.BinDir, Version: "15.18", User: "postgres", Locale: "C", Encoding: "LATIN1"},
	} {
		keys[CacheKey(c)] = true
	}
	if len(keys) != 6 {
		t.Errorf("cache keys collide: %v", keys)
	}
	if k := CacheKey(base); !strings.HasPrefix(k, "pg15.18-") {
		t.Errorf("key %q does not name the version", k)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestMainReportsAnUnreadableConfig(t *testing.T) {
	var buf bytes.Buffer
	if code := Main(strings.NewReader("not json\n"), &buf); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	var m Message
	must(t, json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &m))
	if m.Type != "error" || !strings.HasPrefix(m.Error, "agent: decoding config:") {
		t.Errorf("message %+v", m)
	}
}
