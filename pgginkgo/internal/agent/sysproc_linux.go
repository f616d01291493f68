package agent

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// postmasterAttr makes the kernel send SIGQUIT (immediate shutdown) to the
// postmaster if the agent dies, so not even a SIGKILL of the agent leaves a
// server running. The postmaster then ends its own children.
func postmasterAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
}

// Pdeathsig fires when the *thread* that forked the child exits, and the Go
// runtime may retire threads. So every postmaster is started from one
// goroutine that stays locked to its thread for the life of the agent.
var (
	startReq  = make(chan startCall)
	startOnce sync.Once
)

type startCall struct {
	cmd  *exec.Cmd
	done chan error
}

// The starter goroutine is created lazily: the agent runs inside an init
// function, before other init functions of this package would have run.
func startLocked(cmd *exec.Cmd) error {
	startOnce.Do(func() {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread must outlive the child
			for c := range startReq {
				c.done <- c.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	startReq <- startCall{cmd, done}
	return <-done
}

// becomeSubreaper makes the processes a dead postmaster leaves (backends,
// the checkpointer, …) children of the agent rather than of init, so that
// endOrphans can find and end them.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// endOrphans SIGKILLs and reaps every child of the agent, and returns
// their PIDs. It runs only once the postmaster has died, while the agent
// starts no process of its own, so its children are what the postmaster
// left: reparented to us, the subreaper. It repeats until none is left,
// because a process that dies hands its own children to us in turn.
func endOrphans(limit time.Duration) []int {
	self := os.Getpid()
	deadline := time.Now().Add(limit)
	var ended []int
	for time.Now().Before(deadline) {
		kids := childrenOf(self)
		if len(kids) == 0 {
			break
		}
		for _, pid := range kids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		for _, pid := range kids {
			for time.Now().Before(deadline) {
				// Reaped here, or a zombie would stay until the agent exits.
				got, err := syscall.Wait4(pid, nil, syscall.WNOHANG, nil)
				if got == pid || err != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
			ended = append(ended, pid)
		}
	}
	return ended
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := procStat(child); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// procStat returns the fields of /proc/<pid>/stat after the command name,
// which may hold spaces and parentheses: f[0] is the state (field 3 of
// proc(5)), f[1] the parent PID, f[19] the start time.
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// procStart is a process's start time in clock ticks since boot, which
// tells a process from a later one that reuses its PID; ok is false when
// the process has ended (a zombie has ended too).
func procStart(pid int) (start uint64, ok bool) {
	f := procStat(pid)
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0, false
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	return start, err == nil
}
