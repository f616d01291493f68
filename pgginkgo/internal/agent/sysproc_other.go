//go:build !linux && !windows

package agent

import (
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// Without Pdeathsig, a postmaster orphaned by a killed agent is ended by the
// sweep at the next start.
func postmasterAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

func startLocked(cmd *exec.Cmd) error { return cmd.Start() }

// Elsewhere the processes a dead postmaster leaves go to init; they notice
// the postmaster's death and exit on their own.
func becomeSubreaper() error { return nil }

func endOrphans(limit time.Duration) []int { return nil }

// procStart has no start time to offer without /proc: ok says only
// whether the process exists, and a reused PID goes unnoticed.
func procStart(pid int) (start uint64, ok bool) {
	err := syscall.Kill(pid, 0)
	return 0, err == nil || errors.Is(err, syscall.EPERM)
}
