package agent

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
)

func TestSpawnReportsAHelperThatDiesWithoutAWord(t *testing.T) {
	tmp := t.TempDir()
	cfg := Config{BinDir: "/nonexistent/bin", Version: "15.0", CacheDir: filepath.Join(tmp, "cache"), BaseDir: filepath.Join(tmp, "run"),
		User: "postgres", Locale: "C", Encoding: "UTF8", ParentPID: os.Getpid()}
	// Holding the initdb cache's build lock keeps the agent waiting in its
	// boot, where it has sent nothing yet.
	must(t, os.MkdirAll(filepath.Join(cfg.CacheDir, "initdb"), 0o700))
	held, err := flock.Try(filepath.Join(cfg.CacheDir, "initdb", CacheKey(cfg)+".lock"), false)
	must(t, err)
	defer held.Release()

	killed := make(chan int, 1)
	go func() {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if pid := agentChild(); pid != 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				killed <- pid
				return
			}
		}
		close(killed)
	}()
	var logs bytes.Buffer
	_, _, err = Spawn(context.Background(), cfg, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	pid := <-killed
	if pid == 0 {
		t.Fatal("found no agent among this process's children")
	}
	if err == nil {
		t.Fatal("Spawn of a killed agent succeeded")
	}
	t.Logf("Spawn: %v", err)
	want := "the lifecycle helper (pid " + strconv.Itoa(pid) + ") ended (killed by SIGKILL) without a reply"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

// agentChild finds a child of this process that runs as an agent, by the
// marker in its environment.
func agentChild() int {
	entries, _ := os.ReadDir("/proc")
	self := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := procStat(pid); len(f) < 2 || f[1] != self {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && bytes.Contains(append([]byte{0}, env...), []byte("\x00"+Marker+"=1\x00")) {
			return pid
		}
	}
	return 0
}
