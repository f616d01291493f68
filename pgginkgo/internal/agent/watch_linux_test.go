package agent

import (
	"os/exec"
	"testing"
	"time"
)

func TestWatchProcessNoticesTheEndAndAReusedPID(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	must(t, cmd.Start())
	start, ok := procStart(cmd.Process.Pid)
	if !ok || start == 0 {
		t.Fatalf("procStart of a live process = %d, %v", start, ok)
	}
	watch := func(pid int, start uint64) chan string {
		got := make(chan string, 1)
		go watchProcess(pid, start, make(chan struct{}), func() { got <- "gone" }, func() { got <- "blind" })
		return got
	}

	live := watch(cmd.Process.Pid, start)
	reused := watch(cmd.Process.Pid, start+1) // what a later process with this PID looks like
	select {
	case g := <-live:
		t.Fatalf("a live process: %s", g)
	case <-time.After(3 * watchInterval):
	}
	if g := <-reused; g != "gone" {
		t.Errorf("another start time: %s, want gone", g)
	}

	_ = cmd.Process.Kill()
	killed := time.Now()
	_ = cmd.Wait()
	select {
	case g := <-live:
		if g != "gone" {
			t.Errorf("a killed process: %s, want gone", g)
		}
		if d := time.Since(killed); d > 2*watchInterval {
			t.Errorf("noticed after %s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a killed process went unnoticed")
	}

	// The parent saw it, the agent cannot: not a reason to stop.
	if g := <-watch(cmd.Process.Pid, start); g != "blind" {
		t.Errorf("a process the agent cannot see: %s, want blind", g)
	}
}
