package pgginkgo

import (
	"fmt"
	"path/filepath"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/agent"
)

// serverGone says whether the suite's PostgreSQL server has gone away, so
// that each spec after its death fails at once with the cause (the exit
// status and the end of the server log) rather than with a connection
// error, or after waiting for a database that never comes. It runs before
// every spec and costs a few system calls; see agent.CheckCluster.
//
// The cluster's directory holds the passfile, so any process of the run
// finds it from its Handle.
func serverGone() error {
	h := suiteState.handle
	if h == nil {
		procPools.mu.Lock()
		h = procPools.h
		procPools.mu.Unlock()
	}
	if h == nil || h.PassFile == "" {
		return nil
	}
	if err := agent.CheckCluster(filepath.Dir(h.PassFile)); err != nil {
		return fmt.Errorf("pgginkgo: %w", err)
	}
	return nil
}
