package pgginkgo

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
)

// A run on an existing server is named by its run ID, which every database
// it creates carries: pgg_<host>_<pid>_<random>_<template>_p<process>_<n>.
// Its lease is a session of process 1 whose application_name,
// "pgginkgo lease <run ID> <epoch>", it renews every leaseBeat: any role
// can read every session's application_name in pg_stat_activity, so every
// run, on any machine and as any role, can tell a live run from a dead
// one. The lease ends with that session (a run killed with -9 loses it at
// once), or leaseTTL after a beat it missed (a machine that vanished with
// its connection still half-open).
const (
	leaseApp  = "pgginkgo lease "
	leaseBeat = 20 * time.Second
	leaseTTL  = 2 * time.Minute
)

// runDatabase matches the databases runs create and captures the run ID.
var runDatabase = regexp.MustCompile(`^pgg_([a-z0-9]{1,12}_[0-9]{1,10}_[a-z0-9]{6})_`)

// newRunID is host, pid and six random characters.
func newRunID() string {
	host, _ := os.Hostname()
	slug := strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, strings.ToLower(host))
	if len(slug) > 12 {
		slug = slug[:12]
	}
	if slug == "" {
		slug = "host"
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return fmt.Sprintf("%s_%d_%s", slug, os.Getpid(), b)
}

// runPattern matches, in LIKE syntax, every database of run id.
func runPattern(id string) string { return `pgg\_` + strings.ReplaceAll(id, "_", `\_`) + `\_%` }

// serverRun is what process 1 holds for a run on an existing server.
type serverRun struct {
	dir   string // the run's directory, with the passfile
	lease *lease
}

// startServer is Start on an existing server: check it, write the
// passfile, take the lease, and sweep what earlier runs left.
func startServer(ctx context.Context, cfg *config) (*Guard, *Handle, error) {
	began := time.Now()
	log := cfg.logger.With("component", "pgginkgo")
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	t, err := parseTarget(cfg.serverURL)
	if err != nil {
		return nil, nil, err
	}
	conn, version, superuser, err := checkServer(ctx, t)
	if conn != nil {
		defer conn.Close(context.WithoutCancel(ctx))
	}
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.serverBudget(ctx, conn, log); err != nil {
		return nil, nil, err
	}
	dir, passFile, err := writePassFile(t.conn)
	if err != nil {
		return nil, nil, err
	}
	h := serverHandle(t, passFile, version, newRunID(), superuser)
	run := &serverRun{dir: dir}
	g := &Guard{handle: h, server: run, logger: log}
	if run.lease, err = startLease(ctx, h, log); err != nil {
		_ = g.Stop()
		return nil, nil, err
	}
	log.Info("existing server", "server", t.shown, "version", version, "run", h.RunID, "superuser", superuser)
	if ignored := cfg.clusterOnly(); len(ignored) > 0 {
		log.Warn("options that shape a cluster of pgginkgo's own do nothing on an existing server", "ignored", strings.Join(ignored, ", "))
	}
	if h.CloneOnly {
		log.Info("clone mode: the role is not a superuser, and recycling a database needs event triggers, which need one; each spec's database is dropped after it and a new clone takes its place (tens of milliseconds per spec, in the background, instead of about one)",
			"role", h.User)
	}
	rep, err := sweepServer(ctx, conn, h.RunID, cfg.keptTTL, cfg.templateTTL)
	if err != nil {
		log.Warn("sweeping what earlier runs left failed", "error", err)
	}
	rep.log(log)
	log.Info("server ready", "server", h.String(), "total", time.Since(began).String())
	return g, h, nil
}

// clusterOnly names the options given that only a cluster of our own uses.
func (c *config) clusterOnly() []string {
	def := defaultConfig()
	var out []string
	for _, o := range []struct {
		name string
		set  bool
	}{
		{"Version", c.version != ""}, {"BinariesPath", c.binaries != ""}, {"Port", c.port != 0},
		{"RuntimeDir", c.runtimeDir != ""}, {"Setting", len(c.explicit) > 0}, {"Superuser", c.superuser != def.superuser},
		{"Locale", c.locale != def.locale}, {"Encoding", c.encoding != def.encoding}, {"WithoutImage", c.noImage},
	} {
		if o.set {
			out = append(out, o.name)
		}
	}
	return out
}

// serverBudget caps Prefetch to the connections the server has free, as
// budget does for a cluster of our own, whose max_connections we set.
func (c *config) serverBudget(ctx context.Context, conn *pgx.Conn, log *slog.Logger) error {
	if c.procs == 0 {
		return nil
	}
	var maxConns, reserved, used int
	if err := conn.QueryRow(ctx, `SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int,
		(SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend')`).Scan(&maxConns, &reserved, &used); err != nil {
		return fmt.Errorf("pgginkgo: reading the server's connection limit: %w", err)
	}
	free := maxConns - reserved - used
	p, need := c.fitPrefetch(free)
	if need > free {
		return fmt.Errorf("pgginkgo: the server has %d connections free (max_connections %d, %d reserved, %d in use), and this run needs %d for %d process(es) with Prefetch %d; lower Prefetch, run fewer processes, or raise max_connections",
			free, maxConns, reserved, used, need, c.procs, p)
	}
	if p < c.prefetch {
		log.Info("prefetch capped to fit the server's free connections", "prefetch", p, "asked", c.prefetch, "free", free)
		c.prefetch = p
	}
	return nil
}

// stop ends a run on an existing server: its databases go, except the
// kept ones, then its lease and its directory.
func (r *serverRun) stop(h *Handle, log *slog.Logger) error {
	var err error
	if r.lease != nil {
		err = r.lease.dropRun(h, log)
		r.lease.stop()
	}
	os.RemoveAll(r.dir)
	return err
}

// lease is process 1's session that tells other runs this one is alive.
type lease struct {
	h    *Handle
	log  *slog.Logger
	mu   sync.Mutex
	conn *pgx.Conn
	done chan struct{}
	wg   sync.WaitGroup
}

func startLease(ctx context.Context, h *Handle, log *slog.Logger) (*lease, error) {
	l := &lease{h: h, log: log, done: make(chan struct{})}
	if err := l.renew(ctx); err != nil {
		return nil, fmt.Errorf("pgginkgo: taking the run's lease on %s: %w", h, err)
	}
	l.wg.Add(1)
	go l.beat()
	return l, nil
}

// renew stamps the lease with the server's clock, reconnecting if needed.
func (l *lease) renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if l.conn == nil || l.conn.IsClosed() {
		cc, err := l.h.ConnConfig("")
		if err != nil {
			return err
		}
		cc.RuntimeParams["application_name"] = leaseApp + l.h.RunID
		if l.conn, err = pgx.ConnectConfig(ctx, cc); err != nil {
			return err
		}
	}
	_, err := l.conn.Exec(ctx, `SELECT pg_catalog.set_config('application_name',
		$1 || floor(extract(epoch FROM pg_catalog.clock_timestamp()))::bigint, false)`, leaseApp+l.h.RunID+" ")
	if err != nil {
		l.conn.Close(context.WithoutCancel(ctx))
		l.conn = nil
	}
	return err
}

func (l *lease) beat() {
	defer l.wg.Done()
	tick := time.NewTicker(leaseBeat)
	defer tick.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-tick.C:
			if err := l.renew(context.Background()); err != nil {
				l.log.Warn("renewing the run's lease failed; retrying", "error", err)
			}
		}
	}
}

// dropRun drops the run's databases, but the kept ones, on the lease's
// session: every process has finished, so nothing of the run is in use.
func (l *lease) dropRun(h *Handle, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*cleanupTimeout)
	defer cancel()
	if err := l.renew(ctx); err != nil {
		return fmt.Errorf("pgginkgo: dropping the run's databases: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	rows, err := l.conn.Query(ctx, `SELECT datname FROM pg_catalog.pg_database
		WHERE datname LIKE $1 AND COALESCE(pg_catalog.shobj_description(oid, 'pg_database'), '') NOT LIKE 'pgginkgo kept%'`, runPattern(h.RunID))
	if err != nil {
		return fmt.Errorf("pgginkgo: listing the run's databases: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("pgginkgo: listing the run's databases: %w", err)
	}
	var failed []string
	for _, name := range names {
		if _, err := l.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+sqlquote.Ident(name)+" WITH (FORCE)"); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", name, err))
		}
	}
	log.Info("run's databases dropped", "run", h.RunID, "dropped", len(names)-len(failed))
	if len(failed) > 0 {
		return fmt.Errorf("pgginkgo: dropping the run's databases: %s; a later run sweeps them", strings.Join(failed, "; "))
	}
	return nil
}

func (l *lease) stop() {
	close(l.done)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.conn.Close(ctx)
		l.conn = nil
	}
}
