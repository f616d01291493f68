package pgginkgo

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
)

// The connection budget of a run under ginkgo -p: every process holds, per
// template it uses,
//
//	2 connections per database of its pool (Prefetch): the connection the
//	  next spec finds open, and the one recycling resets the database on;
//
// and besides
//
//	adminConns for cloning and dropping,
//	specPoolConns-1 more that the running spec's pool may open,
//	clientHeadroom for clients a spec opens itself (psql, pgx.Connect).
//
// Process 1 sizes max_connections to processes × that + setupConns, before
// the server starts.
const (
	adminConns     = 4 // two workers per template clone and drop on it, and the spec's checks must not queue behind them
	specPoolConns  = 4 // MaxConns of a spec's Database.Pool
	clientHeadroom = 4
	setupConns     = 10 // process 1's template build, pg_dump, a psql of yours
)

// connsPerProcess is what one process of the run may hold at once.
func connsPerProcess(templates, prefetch int) int {
	return adminConns + 2*templates*prefetch + specPoolConns - 1 + clientHeadroom
}

// connsNeeded is max_connections for a run of procs processes.
func connsNeeded(procs, templates, prefetch int) int {
	return procs*connsPerProcess(templates, prefetch) + setupConns
}

// bytesPerConnection is what an idle backend costs in memory, roughly; a
// run never sizes max_connections beyond one per bytesPerConnection of the
// machine's memory, and caps Prefetch instead.
const bytesPerConnection = 8 << 20

func connectionCeiling() int {
	mem := totalMemory()
	if mem <= 0 {
		return 2000
	}
	return min(max(int(mem/bytesPerConnection), 200), 10000)
}

// connectionLimit is the most max_connections a run may have: the explicit
// Setting, or the machine's ceiling.
func (c *config) connectionLimit() (limit int, explicit bool, err error) {
	if !c.explicit["max_connections"] {
		return connectionCeiling(), false, nil
	}
	v, ok := c.settings["max_connections"]
	if !ok {
		v = "100" // removed with Setting(..., ""): PostgreSQL's default
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, true, fmt.Errorf("pgginkgo: Setting(\"max_connections\", %q): not a positive number", v)
	}
	return n, true, nil
}

// budget sizes max_connections for a run of c.procs processes, before the
// server starts, and caps Prefetch when the run would not fit otherwise.
// An explicit max_connections, or an explicit Prefetch, that cannot fit is
// an error that says what the run needs.
func (c *config) budget(log *slog.Logger) error {
	procs, templates := c.procs, max(1, len(c.templates))
	limit, explicitMax, err := c.connectionLimit()
	if err != nil {
		return err
	}
	p, need := c.fitPrefetch(limit)
	if need > limit {
		how := fmt.Sprintf("%d process(es) × %d connections (%d template(s) × Prefetch %d × 2, + %d) + %d = %d",
			procs, connsPerProcess(templates, p), templates, p, adminConns+specPoolConns-1+clientHeadroom, setupConns, need)
		if explicitMax {
			return fmt.Errorf("pgginkgo: Setting(\"max_connections\", %q) is too small for this run, which needs %s; raise it to %d, lower Prefetch, or run fewer processes",
				c.settings["max_connections"], how, need)
		}
		return fmt.Errorf("pgginkgo: this run needs %s connections, more than the %d this machine's memory allows (one per %d MiB); lower Prefetch or run fewer processes, or set Setting(\"max_connections\", ...) to take the risk",
			how, limit, bytesPerConnection>>20)
	}
	if p < c.prefetch {
		log.Info("prefetch capped to fit max_connections", "prefetch", p, "asked", c.prefetch, "processes", procs, "maxConnections", limit)
		c.prefetch = p
	}
	if !explicitMax {
		c.settings["max_connections"] = strconv.Itoa(max(need, 100))
	}
	return nil
}

// fitPrefetch lowers Prefetch, unless it was given explicitly, until the
// run needs at most limit connections, and returns it with what the run
// then needs, which may still exceed limit.
func (c *config) fitPrefetch(limit int) (prefetch, need int) {
	procs, templates := c.procs, max(1, len(c.templates))
	p := c.prefetch
	for !c.prefetchSet && p > 1 && connsNeeded(procs, templates, p) > limit {
		p--
	}
	return p, connsNeeded(procs, templates, p)
}

// spaceNeed is what the cluster's directory will hold at most: the data
// directory it boots from, and a copy of each template per database of
// every process's pool, with a margin for WAL and temporary files.
func (c *config) spaceNeed(dataBytes, dbBytes int64) int64 {
	procs := max(1, c.procs)
	n := int64(procs) * int64(c.prefetch) * int64(max(1, len(c.templates)))
	if c.procs == 0 {
		n = 0 // Start: no pools
	}
	need := dataBytes + n*dbBytes
	return need + need/4 + 64<<20
}

// estimateSizes guesses, before the server starts, the data directory's
// size and a template database's: from the image the run will boot from
// (image.Store.Sizes: its bytes and databases; 0 databases when none), else
// from what an empty cluster takes.
func estimateSizes(imageBytes int64, databases int) (dataBytes, dbBytes int64) {
	dataBytes, dbBytes = 40<<20, 8<<20
	if databases == 0 {
		return
	}
	return imageBytes, max(dbBytes, imageBytes/int64(databases))
}

// chooseRuntimeDir picks where cluster directories live: /dev/shm when it
// is a tmpfs with room for need, else the temporary directory, with one log
// line that says why; an error when neither has room.
func chooseRuntimeDir(uid int, need int64, tmp string, log *slog.Logger) (string, error) {
	name := "pgginkgo-" + strconv.Itoa(uid)
	shm, shmFree := memoryBackedDir()
	if shm != "" && shmFree >= need {
		return filepath.Join(shm, name), nil
	}
	tmpFree := freeBytes(tmp)
	if tmpFree >= 0 && tmpFree < need {
		return "", fmt.Errorf("pgginkgo: the cluster needs about %s for its databases, and neither /dev/shm (%s free) nor %s (%s free) has it; free some space, set TMPDIR or pass pgginkgo.RuntimeDir, or lower Prefetch or the number of processes",
			FormatBytes(need), FormatBytes(max(shmFree, 0)), tmp, FormatBytes(tmpFree))
	}
	if shm != "" {
		log.Info("the cluster runs on disk: /dev/shm is too small for this run", "need", FormatBytes(need), "free", FormatBytes(shmFree), "dir", tmp)
	}
	return filepath.Join(tmp, name), nil
}

// checkSpace runs on process 1 once the templates exist, when their real
// size is known: the pools' databases must fit in the cluster's directory.
// An implicit Prefetch is capped to fit; otherwise it is an error before
// any spec runs.
func (c *config) checkSpace(ctx context.Context, h *Handle, dir string, log *slog.Logger) error {
	free := freeBytes(dir)
	if free < 0 || c.procs == 0 {
		return nil
	}
	conn, err := connect(ctx, h, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var per int64
	names := make([]string, 0, len(h.Templates))
	for _, db := range h.Templates {
		names = append(names, db)
	}
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(pg_catalog.pg_database_size(datname)), 0)::int8
		FROM pg_catalog.pg_database WHERE datname = ANY($1)`, names).Scan(&per); err != nil {
		return fmt.Errorf("pgginkgo: measuring the templates: %w", err)
	}
	ready := 0
	for _, r := range h.Ready {
		ready += len(r)
	}
	fits := func(p int) bool {
		n := int64(c.procs*p - ready)
		return n*per+n*per/10 <= free
	}
	p := c.prefetch
	for !c.prefetchSet && p > 1 && !fits(p) {
		p--
	}
	if !fits(p) {
		return fmt.Errorf("pgginkgo: the databases of this run do not fit in %s: %d process(es) × Prefetch %d × %s of templates needs %s more, and %s is free; free some space, set TMPDIR or pass pgginkgo.RuntimeDir, or lower Prefetch or the number of processes",
			dir, c.procs, p, FormatBytes(per), FormatBytes(int64(c.procs*p-ready)*per), FormatBytes(free))
	}
	if p < c.prefetch {
		log.Info("prefetch capped to fit the runtime directory", "prefetch", p, "asked", c.prefetch, "free", FormatBytes(free), "templates", FormatBytes(per))
		c.prefetch = p
	}
	return nil
}
