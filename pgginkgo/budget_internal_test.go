package pgginkgo

import (
	"bytes"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

func TestBudgetSizesMaxConnections(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		name     string
		opts     []SuiteOption
		procs    int
		wantMax  string
		wantP    int
		wantErrs []string
	}{
		{name: "one process", opts: []SuiteOption{Prefetch(4)}, procs: 1, wantMax: "100", wantP: 4},
		{name: "a 48-core runner", opts: []SuiteOption{Prefetch(8)}, procs: 47, wantMax: strconv.Itoa(47*(11+16) + 10), wantP: 8},
		{name: "an explicit max_connections caps an implicit Prefetch", opts: []SuiteOption{Setting("max_connections", "62")}, procs: 4, wantMax: "62", wantP: 1},
		{name: "an explicit max_connections too small even for Prefetch 1", opts: []SuiteOption{Setting("max_connections", "100")}, procs: 48,
			wantErrs: []string{`pgginkgo: Setting("max_connections", "100") is too small for this run, which needs 48 process(es) × 13 connections (1 template(s) × Prefetch 1 × 2, + 11) + 10 = 634; raise it to 634`}},
		{name: "an explicit Prefetch beyond the machine", opts: []SuiteOption{Prefetch(8)}, procs: 100000,
			wantErrs: []string{"pgginkgo: this run needs 100000 process(es) × 27 connections", "more than the", "this machine's memory allows (one per 8 MiB)", "lower Prefetch or run fewer processes"}},
		{name: "a max_connections that is no number", opts: []SuiteOption{Setting("max_connections", "many")}, procs: 2,
			wantErrs: []string{`pgginkgo: Setting("max_connections", "many"): not a positive number`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := newConfig(c.opts)
			cfg.procs = c.procs
			err := cfg.budget(quiet)
			if len(c.wantErrs) > 0 {
				if err == nil {
					t.Fatalf("no error; max_connections=%s", cfg.settings["max_connections"])
				}
				for _, w := range c.wantErrs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\ndoes not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.settings["max_connections"]; got != c.wantMax {
				t.Errorf("max_connections = %s, want %s", got, c.wantMax)
			}
			if cfg.prefetch != c.wantP {
				t.Errorf("prefetch = %d, want %d", cfg.prefetch, c.wantP)
			}
		})
	}
}

func TestChooseRuntimeDirSaysWhatIsMissing(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tmp := t.TempDir()
	_, err := chooseRuntimeDir(0, 1<<60, tmp, quiet)
	if err == nil {
		t.Fatal("no error for an exabyte")
	}
	for _, w := range []string{"pgginkgo: the cluster needs about ", "neither /dev/shm (", tmp + " (", "set TMPDIR or pass pgginkgo.RuntimeDir, or lower Prefetch or the number of processes"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not contain %q", err, w)
		}
	}
	dir, err := chooseRuntimeDir(0, 1<<20, tmp, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if shm, _ := memoryBackedDir(); shm != "" && !strings.HasPrefix(dir, shm) {
		t.Errorf("a MiB fits in /dev/shm, got %s", dir)
	}
}

func TestChooseRuntimeDirMovesToDiskWhenDevShmIsTooSmall(t *testing.T) {
	shm, shmFree := memoryBackedDir()
	tmp := t.TempDir()
	need := shmFree + 1<<20
	if shm == "" || freeBytes(tmp) < need {
		t.Skipf("needs /dev/shm as a tmpfs and more free space in %s than in it", tmp)
	}
	var logs bytes.Buffer
	dir, err := chooseRuntimeDir(65534, need, tmp, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if want := tmp + "/pgginkgo-65534"; dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
	if !strings.Contains(logs.String(), `msg="the cluster runs on disk: /dev/shm is too small for this run"`) || !strings.Contains(logs.String(), "dir="+tmp) {
		t.Errorf("one log line says why; got:\n%s", logs.String())
	}
}
