package pgginkgo

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

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
	if h == nil || h.PassFile == "" || h.External {
		return nil
	}
	if err := agent.CheckCluster(filepath.Dir(h.PassFile)); err != nil {
		return fmt.Errorf("pgginkgo: %w", err)
	}
	return nil
}

// serverGoneAfter is serverGone for an error that may be a symptom of the
// server's death: a connection refused or cut. The helper records the death
// a few milliseconds after the server's connections fail, so such an error
// waits up to a second for the record before it is taken at face value.
func serverGoneAfter(err error) error {
	var connErr *pgconn.ConnectError
	var netErr net.Error
	if !errors.As(err, &connErr) && !errors.As(err, &netErr) && !pgconn.SafeToRetry(err) {
		return serverGone()
	}
	for deadline := time.Now().Add(time.Second); ; time.Sleep(10 * time.Millisecond) {
		if gone := serverGone(); gone != nil || time.Now().After(deadline) {
			return gone
		}
	}
}
