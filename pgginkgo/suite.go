package pgginkgo

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/agent"
)

// suiteState is the one piece of process-global state: Ginkgo runs one suite
// per process and the specs of a process one at a time, so the nodes Suite
// registers are its only writers, and spec code only reads it.
var suiteState struct {
	guard  *Guard          // process 1 only
	handle *Handle         // every process, after SynchronizedBeforeSuite
	scope  *envscope.Scope // the PG* variables of this process
}

// Suite registers the nodes that give a Ginkgo suite its cluster, and is
// meant to be the only setup line of a suite:
//
//	var _ = pgginkgo.Suite(pgginkgo.Migrations(os.DirFS("../migrations")))
//
// It registers a SynchronizedBeforeSuite in which process 1 starts the
// cluster (from the migrated image, or building the templates and then the
// image when there is none) and every process decodes the Handle and
// exports PG* variables, and a SynchronizedAfterSuite in which every process
// closes its clients and process 1 then stops the cluster. It works with
// ginkgo -p, -procs=N and plain go test.
func Suite(opts ...SuiteOption) bool {
	cfg := suiteConfig(opts)
	log := cfg.logger
	registerRedaction()
	ginkgo.SynchronizedBeforeSuite(func(ctx ginkgo.SpecContext) []byte {
		// Read the migrations before booting anything, so that a missing
		// directory fails in milliseconds and starts nothing.
		if err := checkTemplates(ctx, cfg); err != nil {
			ginkgo.Fail(err.Error())
		}
		// One ready database per process in the image, and at least two,
		// so that `go test` and `ginkgo -p` on a small machine share one.
		suiteCfg, _ := ginkgo.GinkgoConfiguration()
		cfg.imageReady = max(2, suiteCfg.ParallelTotal)
		// Sized before the server starts: max_connections cannot change
		// without a restart.
		cfg.procs = max(1, suiteCfg.ParallelTotal)
		if cfg.serverURL == "" {
			cfg.serverURL = os.Getenv(EnvServerURL)
		}
		if cfg.serverURL == "" { // an existing server's limit is checked on it
			if err := cfg.budget(log); err != nil {
				ginkgo.Fail(err.Error())
			}
		}
		cfg.watchPID = ginkgoCLIPID(suiteCfg)
		g, h, err := start(ctx, cfg)
		if err != nil {
			ginkgo.Fail(err.Error())
		}
		// Set before the steps below, which may fail: the
		// SynchronizedAfterSuite, which Ginkgo runs after a failed
		// SynchronizedBeforeSuite too, then stops the cluster.
		suiteState.guard = g
		if err := g.installTemplates(ctx, cfg, h, log); err != nil {
			ginkgo.Fail(err.Error())
		}
		// An image's sizes were known before the start (see start); a run
		// that built its templates measures them now.
		if g.server == nil && g.ready.Image != agent.ImageHit {
			if err := cfg.checkSpace(ctx, h, g.Dir(), log); err != nil {
				ginkgo.Fail(err.Error())
			}
		}
		h.Prefetch = cfg.prefetch // as capped by budget and checkSpace
		if err := g.exportEnv(ctx, cfg); err != nil {
			ginkgo.Fail(err.Error())
		}
		prepareFailureDumps(log) // before any process runs a spec
		data, err := h.Encode()
		if err != nil {
			ginkgo.Fail(err.Error())
		}
		return data
	}, func(ctx ginkgo.SpecContext, data []byte) {
		h, err := DecodeHandle(data)
		if err != nil {
			ginkgo.Fail(err.Error())
		}
		suiteState.handle = h
		if g := suiteState.guard; g != nil {
			suiteState.scope = g.EnvScope() // process 1 exported them in Start
		} else if cfg.exportEnv {
			scope, err := envscope.ApplyContext(ctx, EnvChanges(h)...)
			if err != nil {
				ginkgo.Fail(fmt.Sprintf("pgginkgo: exporting PG* variables: %v", err))
			}
			suiteState.scope = scope
		}
		if err := startProcessPools(ctx, cfg, h, log); err != nil {
			ginkgo.Fail(err.Error())
		}
		attachFailureDumps(cfg, log)
		for _, fn := range cfg.afterStart {
			if err := fn(ctx, h); err != nil {
				ginkgo.Fail(fmt.Sprintf("pgginkgo.AfterStart: %v", err))
			}
		}
		log.Debug("process attached to cluster", "process", ginkgo.GinkgoParallelProcess(), "cluster", h.String())
	})

	// An Ordered container's database goes back to its pool when the
	// first spec outside the container starts.
	ginkgo.ReportBeforeEach(releaseEndedOrdered)

	ginkgo.SynchronizedAfterSuite(func(ctx ginkgo.SpecContext) {
		if suiteState.handle != nil {
			for _, fn := range cfg.beforeStop {
				if err := fn(ctx, suiteState.handle); err != nil {
					ginkgo.Fail(fmt.Sprintf("pgginkgo.BeforeStop: %v", err))
				}
			}
		}
		stopProcessPools(ctx)
		if suiteState.guard == nil && suiteState.scope != nil {
			if err := suiteState.scope.Restore(); err != nil {
				ginkgo.Fail(fmt.Sprintf("pgginkgo: restoring the environment: %v", err))
			}
		}
		suiteState.scope = nil
	}, func(ctx ginkgo.SpecContext) {
		g := suiteState.guard
		if g == nil {
			return
		}
		// One connection for both reports; none when the server is gone.
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		conn, err := connect(cctx, g.Handle(), g.Handle().Database)
		cancel()
		if err == nil {
			reportFailureDumps(ctx, conn, log)
			reportKept(ctx, conn, g.Handle())
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = conn.Close(closeCtx)
			cancel()
		}
		if err := g.Stop(); err != nil {
			ginkgo.Fail(err.Error())
		}
	})
	return true
}

// Cluster returns this process's Handle inside a suite set up with Suite, or
// nil before SynchronizedBeforeSuite has run.
func Cluster() *Handle { return suiteState.handle }

// suiteConfig builds the config once, when the suite's tree is built; its
// logger writes to GinkgoWriter unless the user gave one.
func suiteConfig(opts []SuiteOption) *config {
	cfg := newConfig(opts)
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.NewTextHandler(ginkgo.GinkgoWriter, &slog.HandlerOptions{Level: logLevel()}))
	}
	return cfg
}

// logLevel reads PGGINKGO_LOG_LEVEL (debug, info, warn, error); info by
// default, which shows each step and its timing in GinkgoWriter.
func logLevel() slog.Level {
	var l slog.Level
	if v := os.Getenv("PGGINKGO_LOG_LEVEL"); v != "" && l.UnmarshalText([]byte(strings.ToUpper(v))) == nil {
		return l
	}
	return slog.LevelInfo
}

// EnvScope returns the environment scope that holds this process's PG*
// variables inside a Suite, or nil. Spec-level scopes nest under it; the
// decorators package does this for decorators.Env.
func EnvScope() *envscope.Scope { return suiteState.scope }
