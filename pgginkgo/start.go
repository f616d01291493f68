package pgginkgo

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/agent"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/image"
)

// Start boots a PostgreSQL cluster for tests and returns the Guard that owns
// it and the Handle that describes it. The caller must call Guard.Stop; if
// the process dies first, the lifecycle helper stops the cluster anyway.
//
// Inside a Ginkgo suite, use Suite instead: it calls Start on process 1 and
// hands the Handle to the others.
//
// With Server, Start starts nothing: it checks the existing server, takes
// the run's lease and sweeps what killed runs left; Guard.Stop then drops
// the run's databases. Start reads only the option, never
// PGGINKGO_SERVER_URL, which is for suites.
func Start(ctx context.Context, opts ...ClusterOption) (*Guard, *Handle, error) {
	cfg := clusterConfig(opts)
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	g, h, err := start(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := g.exportEnv(ctx, cfg); err != nil {
		_ = g.Stop()
		return nil, nil, err
	}
	return g, h, nil
}

// exportEnv points PG* variables at the cluster, unless WithoutEnv.
func (g *Guard) exportEnv(ctx context.Context, cfg *config) error {
	if !cfg.exportEnv {
		return nil
	}
	scope, err := envscope.ApplyContext(ctx, EnvChanges(g.handle)...)
	if err != nil {
		return fmt.Errorf("pgginkgo: exporting PG* variables: %w", err)
	}
	g.scope = scope
	return nil
}

// start is Start on an already built config, which Suite shares with its
// other steps.
func start(ctx context.Context, cfg *config) (*Guard, *Handle, error) {
	if cfg.serverURL != "" {
		return startServer(ctx, cfg)
	}
	began := time.Now()
	log := cfg.logger.With("component", "pgginkgo")
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	acct, err := account(cfg)
	if err != nil {
		return nil, nil, err
	}
	if cfg.cacheDir == "" {
		cfg.cacheDir = cfg.defaultCacheDir()
	}
	step := time.Now()
	res, err := binaries.Resolve(ctx, binaries.Request{
		Explicit:      cfg.binaries,
		Version:       cfg.version,
		CacheDir:      cfg.cacheDir,
		RepositoryURL: cfg.repositoryURL,
		Offline:       cfg.offline,
		Logger:        log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pgginkgo: %w", err)
	}
	log.Info("binaries resolved", "source", res.Source, "bindir", res.BinDir, "version", res.Version, "took", time.Since(step).String())
	// PostgreSQL reads time zones from its own share directory or the one it
	// was built with; without them it starts but rejects every zone name.
	if _, err := binaries.TimezoneDir(res); err != nil {
		return nil, nil, fmt.Errorf("pgginkgo: %w", err)
	}
	if acct != nil {
		if err := accessibleBy(res.BinDir, acct); err != nil {
			return nil, nil, err
		}
	}
	agentCache, err := prepareCacheDir(cfg.cacheDir, acct)
	if err != nil {
		return nil, nil, err
	}
	uid := os.Geteuid()
	if acct != nil {
		uid = int(acct.UID)
	}
	if cfg.port < 0 || cfg.port > 65535 {
		return nil, nil, fmt.Errorf("pgginkgo: Port(%d) is out of range; pass 0 to pick a free port", cfg.port)
	}

	password := newPassword()
	verifier, err := scramVerifier(password)
	if err != nil {
		return nil, nil, fmt.Errorf("pgginkgo: generating the password: %w", err)
	}
	acfg := agent.Config{
		BinDir: res.BinDir, BinRoot: res.Root, Version: res.Version,
		CacheDir: agentCache, User: cfg.superuser, Verifier: verifier,
		Locale: cfg.locale, Encoding: cfg.encoding, Port: cfg.port, Settings: cfg.settings,
		StartLimit: cfg.startTimeout, ParentPID: os.Getpid(),
		WatchPID: cfg.watchPID,
	}
	if cfg.imageReady > 0 {
		on, err := imageEnv()
		if err != nil {
			return nil, nil, fmt.Errorf("pgginkgo: %w", err)
		}
		if on && !cfg.noImage {
			key, describe, err := imageKey(ctx, cfg, res)
			if err != nil {
				return nil, nil, err
			}
			acfg.Image = &agent.ImageRequest{
				Store: filepath.Join(agentCache, "images"), Base: key, Ready: cfg.imageReady,
				Limits: cfg.imageLimits, Describe: describe,
			}
		} else {
			log.Info("migrated image bypassed: this run applies the migrations in its own cluster", "why", imageOffReason(cfg))
		}
	}
	var imageBytes int64
	var imageDBs int
	if acfg.Image != nil {
		imageBytes, imageDBs, _ = (image.Store{Dir: acfg.Image.Store}).Sizes(acfg.Image.Base, acfg.Image.Ready)
	}
	need := cfg.spaceNeed(estimateSizes(imageBytes, imageDBs))
	base := cfg.runtimeDir
	if base == "" {
		if base, err = chooseRuntimeDir(uid, need, os.TempDir(), log); err != nil {
			return nil, nil, err
		}
	} else if free := freeBytes(base); free >= 0 && free < need {
		return nil, nil, fmt.Errorf("pgginkgo: RuntimeDir(%q) has %s free, and the cluster needs about %s for its databases; free some space, pass another directory, or lower Prefetch or the number of processes",
			base, FormatBytes(free), FormatBytes(need))
	}
	if err := checkRuntimeDir(base, acct); err != nil {
		return nil, nil, err
	}
	acfg.BaseDir = base
	log.Debug("starting cluster", "settings", cfg.settings, "cacheDir", agentCache, "runtimeDir", base,
		"superuser", cfg.superuser, "locale", cfg.locale, "encoding", cfg.encoding, "password", "[redacted]")
	step = time.Now()
	proc, ready, err := agent.Spawn(ctx, acfg, acct, log)
	if err != nil {
		return nil, nil, fmt.Errorf("pgginkgo: starting PostgreSQL %s from %s: %w", res.Version, res.BinDir, err)
	}
	log.Info("cluster started", "port", ready.Port, "dir", ready.Dir, "warmCache", ready.CacheHit, "image", ready.Image, "took", time.Since(step).String())

	g := &Guard{proc: proc, ready: ready, logger: log, bin: res}
	fail := func(err error) (*Guard, *Handle, error) {
		_ = g.proc.Stop(time.Minute)
		return nil, nil, fmt.Errorf("pgginkgo: %w", err)
	}
	passFile := filepath.Join(ready.Dir, "pgpass")
	line := fmt.Sprintf("127.0.0.1:%d:*:%s:%s\nlocalhost:%d:*:%s:%s\n", ready.Port, cfg.superuser, password, ready.Port, cfg.superuser, password)
	if err := os.WriteFile(passFile, []byte(line), 0o600); err != nil {
		return fail(fmt.Errorf("writing the passfile: %w", err))
	}
	h := &Handle{
		Format: HandleFormat, Host: "127.0.0.1", Port: ready.Port, SocketDir: ready.SocketDir,
		User: cfg.superuser, PassFile: passFile, Version: res.Version, Database: "postgres",
		BinDir: res.BinDir,
	}
	h.Env = map[string]string{
		"PGHOST": h.Host, "PGPORT": strconv.Itoa(h.Port), "PGUSER": h.User,
		"PGDATABASE": h.Database, "PGPASSFILE": passFile, "PGSSLMODE": "disable",
	}
	g.handle = h
	// Prove the TCP + SCRAM path a client will use, not just the socket.
	step = time.Now()
	if err := ping(ctx, h); err != nil {
		return fail(err)
	}
	log.Debug("password authentication verified", "took", time.Since(step).String())
	log.Info("cluster ready", "cluster", h.String(), "total", time.Since(began).String())
	return g, h, nil
}

// EnvChanges returns the envscope changes that point PG* clients at h. They
// unset PGPASSWORD, which libpq would prefer to the passfile.
func EnvChanges(h *Handle) []envscope.Change {
	out := make([]envscope.Change, 0, len(h.Env)+1)
	for _, k := range slices.Sorted(maps.Keys(h.Env)) {
		out = append(out, envscope.Set(k, h.Env[k]))
	}
	if _, set := h.Env["PGPASSWORD"]; !set {
		out = append(out, envscope.Unset("PGPASSWORD"))
	}
	return out
}

func ping(ctx context.Context, h *Handle) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cc, err := h.ConnConfig("")
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(cctx, cc)
	if err != nil {
		return fmt.Errorf("connecting over TCP with the cluster's password: %w", err)
	}
	return conn.Close(ctx)
}

func checkRuntimeDir(base string, acct *agent.Account) error {
	parent := filepath.Dir(base)
	st, err := os.Stat(parent)
	if err != nil {
		return fmt.Errorf("pgginkgo: runtime directory parent %s: %w; set TMPDIR or pass pgginkgo.RuntimeDir", parent, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("pgginkgo: runtime directory parent %s is not a directory; set TMPDIR or pass pgginkgo.RuntimeDir", parent)
	}
	if acct == nil && runtime.GOOS != "windows" {
		probe, err := os.MkdirTemp(parent, ".pgginkgo-probe-")
		if err != nil {
			return fmt.Errorf("pgginkgo: runtime directory %s is not writable: %v; set TMPDIR or pass pgginkgo.RuntimeDir", parent, err)
		}
		os.Remove(probe)
	}
	return nil
}
