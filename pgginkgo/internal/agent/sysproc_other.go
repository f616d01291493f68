//go:build !linux && !windows

package agent

import (
	"os/exec"
	"syscall"
)

// Without Pdeathsig, a postmaster orphaned by a killed agent is ended by the
// sweep at the next start.
func postmasterAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

func startLocked(cmd *exec.Cmd) error { return cmd.Start() }
