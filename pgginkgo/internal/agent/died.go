//go:build !windows

package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// logTailLines is how much of the server log an exit report quotes.
const logTailLines = 30

// died handles a postmaster that ended on its own after it was ready. It
// records how in ExitedFile first, because that file is what the test
// processes check before each spec, then tells the parent, then ends what
// the dead postmaster left behind: its backends and auxiliary processes,
// which would otherwise run on, and the shared memory a killed postmaster
// cannot remove.
func (c *cluster) died(o *out) {
	e := Exit{PostgresPID: c.cmd.Process.Pid, Time: time.Now().UTC(), Log: c.logPath, ExitCode: -1}
	e.Status, e.Signal, e.ExitCode = describeExit(c.cmd.ProcessState)
	e.LogTail = tailLines(c.logPath, logTailLines)
	if err := writeExited(c.dir, e); err != nil {
		o.log("WARN", "could not record how PostgreSQL exited", map[string]any{"error": err.Error()})
	}
	o.send(Message{Type: "exited", Exit: &e})

	ended := endOrphans(5 * time.Second)
	attrs := map[string]any{"status": e.Status}
	if len(ended) > 0 {
		attrs["ended"] = ended
	}
	if removed := releaseIPC(c.dataDir, time.Second); len(removed) > 0 {
		attrs["removed"] = removed
	}
	o.log("INFO", "cleaned up after the dead postmaster; the cluster directory stays until the suite ends", attrs)
}

// describeExit renders a wait status the way the error for the user
// states it.
func describeExit(ps *os.ProcessState) (status, signal string, code int) {
	if ps == nil {
		return "ended", "", -1
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return fmt.Sprintf("exit status %d", ps.ExitCode()), "", ps.ExitCode()
	}
	name := unix.SignalName(ws.Signal())
	if name == "" {
		name = fmt.Sprintf("signal %d", int(ws.Signal()))
	}
	status = "killed by " + name
	if ws.CoreDump() {
		status += " (core dumped)"
	}
	return status, name, -1
}

// writeExited writes ExitedFile by rename, so that a reader never sees it
// half written. 0600 is enough: the test processes run as the agent's
// account, or as root.
func writeExited(dir string, e Exit) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ExitedFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ExitedFile))
}

// tailLines returns the last n lines of a file.
func tailLines(path string, n int) []string {
	s := strings.TrimRight(tail(path, 16<<10), "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
