package agent

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
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
