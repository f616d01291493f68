package pgginkgo

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/agent"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
)

// Guard owns a running cluster, or a run on an existing server (Server).
// It exists only in the process that started it; other processes get the
// Handle. Stop is idempotent.
type Guard struct {
	handle *Handle
	proc   *agent.Process
	ready  agent.Message
	scope  *envscope.Scope
	logger *slog.Logger
	bin    binaries.Result
	server *serverRun // on an existing server, in place of proc

	once    sync.Once
	stopErr error
}

// Handle returns the cluster's Handle.
func (g *Guard) Handle() *Handle { return g.handle }

// Dir is the cluster's directory: data/, sock/, the passfile and the server
// log. Stop removes it.
func (g *Guard) Dir() string { return g.ready.Dir }

// DataDir is the cluster's PGDATA.
func (g *Guard) DataDir() string { return g.ready.DataDir }

// PostgresPID is the postmaster's process id.
func (g *Guard) PostgresPID() int { return g.ready.PostgresPID }

// HelperPID is the process id of the lifecycle helper that owns the
// postmaster.
func (g *Guard) HelperPID() int { return g.ready.AgentPID }

// EnvScope is the environment scope holding the PG* variables, or nil when
// WithoutEnv was given. Nest spec-level scopes under it.
func (g *Guard) EnvScope() *envscope.Scope { return g.scope }

// BinariesDir is the directory (holding bin/) of the PostgreSQL
// installation the cluster runs, and Source says how it was found.
func (g *Guard) BinariesDir() (dir, source string) { return g.bin.Root, g.bin.Source }

// String identifies the cluster without secrets.
func (g *Guard) String() string { return "guard of " + g.handle.String() }

// Stop stops PostgreSQL, removes the cluster's directories and restores the
// environment. Calling it again returns the first result.
func (g *Guard) Stop() error {
	g.once.Do(func() {
		began := time.Now()
		var errs []error
		if g.server != nil {
			if err := g.server.stop(g.handle, g.logger); err != nil {
				errs = append(errs, err)
			}
		} else if err := g.proc.Stop(time.Minute); err != nil {
			errs = append(errs, fmt.Errorf("stopping the cluster: %w", err))
		}
		if g.scope != nil {
			if err := g.scope.Restore(); err != nil {
				errs = append(errs, fmt.Errorf("restoring the environment: %w", err))
			}
		}
		g.stopErr = errors.Join(errs...)
		if g.stopErr != nil {
			g.stopErr = fmt.Errorf("pgginkgo: %w", g.stopErr)
		}
		what := "cluster stopped"
		if g.server != nil {
			what = "run ended"
		}
		g.logger.Info(what, "cluster", g.handle.String(), "took", time.Since(began).String())
	})
	return g.stopErr
}
