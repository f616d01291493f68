package pgginkgo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onsi/ginkgo/v2"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// FailureDumps caps how many failed specs' databases a run writes to SQL
// files, counted across all the processes of a ginkgo -p run; the default
// is 20, and 0 turns the dumps off. Each dump is a plain SQL file that
// psql -f restores into an empty database, and outlives the run, unlike a
// kept database. See docs/users-guide.md, "When a spec fails".
func FailureDumps(n int) SuiteOption {
	return suiteOnly(func(c *config) {
		if n < 0 {
			c.errs = append(c.errs, fmt.Errorf("FailureDumps(%d): the cap cannot be negative; pass 0 to turn the dumps off", n))
			return
		}
		c.failureDumps = n
	})
}

const (
	// dumpTable, in the cluster's postgres database (see dumpCounter),
	// numbers the run's failed specs across processes; its identity is what
	// the cap counts.
	dumpTable = "pgginkgo_failure_dumps"
	// dumpWorkPrefix names a dump's work directory, beside the dumps, so
	// that a dump appears under its name only once complete.
	dumpWorkPrefix = ".pgginkgo-dump-"
	dumpTimeout    = 30 * time.Second
	dumpEntry      = "pgginkgo database dump"
)

// dumps is this process's view of the run's dumps, set by
// attachFailureDumps in SynchronizedBeforeSuite, before any spec, and only
// read afterwards: Ginkgo runs one suite per process.
var dumps struct {
	dir   string // "" when dumps are off
	limit int
}

// prepareFailureDumps runs on process 1 before any spec: it removes the
// previous run's dumps. The run's counter is created by the first failure
// (see countDump), so that a run without failures pays nothing for it.
func prepareFailureDumps(log *slog.Logger) {
	dir, err := failureDir()
	if err != nil {
		log.Warn("finding the directory for failure dumps failed", "error", err)
		return
	}
	clearFailureDumps(dir, log)
}

// countDump numbers a failed spec across the run, creating the counter on
// the run's first failure; two processes that create it at once both go on.
func countDump(ctx context.Context, spec string) (int64, error) {
	db, err := dumpCounter(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	insert := func() error {
		return db.QueryRow(ctx, `INSERT INTO `+dumpTable+` (spec) VALUES ($1) RETURNING n`, spec).Scan(&n)
	}
	err = insert()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42P01" { // undefined_table
		return n, err
	}
	_, err = db.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+dumpTable+` (
		n       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		spec    text NOT NULL,
		file    text,
		problem text)`)
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P07") {
		err = nil // created by another process in the same instant
	}
	if err != nil {
		return 0, err
	}
	return n, insert()
}

// attachFailureDumps runs on every process before its first spec.
func attachFailureDumps(cfg *config, log *slog.Logger) {
	dumps.dir, dumps.limit = "", cfg.failureDumps
	if cfg.failureDumps == 0 {
		return
	}
	dir, err := failureDir()
	if err != nil {
		log.Warn("finding the directory for failure dumps failed; failed specs will not be dumped", "error", err)
		return
	}
	dumps.dir = dir
	log.Debug("failure dumps", "dir", dir, "cap", cfg.failureDumps)
}

// dumpFailed writes the database of the failed spec running now to a SQL
// file, unless the run has reached its cap, and says so in the spec's
// report. Call it before the database is recycled or kept. It returns the
// file's path, or "" when there is none.
func dumpFailed(ctx context.Context, db *Database) (path string) {
	if dumps.dir == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, dumpTimeout)
	defer cancel()
	r := ginkgo.CurrentSpecReport()
	spec := r.FullText()
	n, err := countDump(ctx, spec)
	if err != nil {
		procPools.log.Warn("a failed spec's database was not dumped: counting the dump failed", "database", db.name, "error", err)
		ginkgo.AddReportEntry(dumpEntry, fmt.Sprintf("database %s was not dumped: counting the run's dumps failed: %v", db.name, err),
			ginkgo.ReportEntryVisibilityFailureOrVerbose)
		return ""
	}
	if n > int64(dumps.limit) {
		procPools.log.Warn("a failed spec's database was not dumped: the run reached its cap; raise it with pgginkgo.FailureDumps(n)",
			"database", db.name, "spec", spec, "cap", dumps.limit)
		ginkgo.AddReportEntry(dumpEntry, fmt.Sprintf("database %s was not dumped: this run reached its cap of %d dump(s); raise it with pgginkgo.FailureDumps(n)", db.name, dumps.limit),
			ginkgo.ReportEntryVisibilityFailureOrVerbose)
		return ""
	}
	began := time.Now()
	path = filepath.Join(dumps.dir, dumpFileName(r, n))
	err = pgDump(ctx, procPools.h, db.url, path)
	note, file := "", path
	if err != nil {
		note, file = err.Error(), ""
		procPools.log.Warn("dumping a failed spec's database failed", "database", db.name, "error", err)
		ginkgo.AddReportEntry(dumpEntry, fmt.Sprintf("dumping database %s failed: %v", db.name, err), ginkgo.ReportEntryVisibilityFailureOrVerbose)
	} else {
		procPools.log.Info("failed spec's database dumped", "database", db.name, "file", path, "took", time.Since(began).String())
		ginkgo.AddReportEntry(dumpEntry, fmt.Sprintf("database %s is dumped to\n  %s\nrestore it into an empty database with:\n  %s", db.name, path, restoreCommand(path)),
			ginkgo.ReportEntryVisibilityFailureOrVerbose)
	}
	counter, _ := dumpCounter(ctx) // opened by countDump
	if _, uerr := counter.Exec(ctx, `UPDATE `+dumpTable+` SET file = NULLIF($2, ''), problem = NULLIF($3, '') WHERE n = $1`, n, file, note); uerr != nil {
		procPools.log.Warn("recording a failure dump failed", "file", path, "error", uerr)
	}
	return file
}

// restoreCommand is what the report tells the user to run.
func restoreCommand(path string) string {
	return "psql -X -v ON_ERROR_STOP=1 -d EMPTY_DATABASE -f " + shellQuote(path)
}

func shellQuote(s string) string { return `'` + strings.ReplaceAll(s, `'`, `'\''`) + `'` }

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// dumpFileName is the spec's text as a safe name, with its attempt when it
// has several and the run-wide number n, which no other process or attempt
// of the run shares.
func dumpFileName(r ginkgo.SpecReport, n int64) string {
	slug := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(r.FullText()), "-"), "-")
	if len(slug) > 80 {
		slug = strings.TrimRight(slug[:80], "-")
	}
	if slug == "" {
		slug = "spec"
	}
	if r.NumAttempts > 1 {
		slug += fmt.Sprintf("-attempt%d", r.NumAttempts)
	}
	return fmt.Sprintf("%s-%d.sql", slug, n)
}

// trackingEntry matches, in pg_restore --list, pgginkgo's own triggers:
// the change tracking on every table and the event triggers. They call
// functions of the pgginkgo schema, which the dump leaves out, and an
// event trigger needs a superuser, so they would not restore.
var trackingEntry = regexp.MustCompile(`^\d+; \d+ \d+ (?:EVENT )?TRIGGER .* pgginkgo_\S+ \S+$`)

// pgDump writes the database at url to path as a plain SQL script that
// psql -f restores into an empty database, as any role that owns it:
// without pgginkgo's change tracking, owners and privileges, which name
// roles the restoring cluster may not have. It uses pg_dump and
// pg_restore of the server's version (see runTool).
func pgDump(ctx context.Context, h *Handle, url, path string) error {
	if h.BinDir == "" {
		return errors.New("the cluster's Handle names no BinDir; build every process of the suite with the same pgginkgo version")
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the directory for failure dumps: %w", err)
	}
	work, err := os.MkdirTemp(dir, dumpWorkPrefix)
	if err != nil {
		return fmt.Errorf("creating a work directory beside the dumps: %w", err)
	}
	defer os.RemoveAll(work)
	script := filepath.Join(work, "dump.sql")
	if _, err := dumpWithoutTracking(ctx, h, url, work, nil, []string{"--no-owner", "--no-privileges", "--file=" + script}); err != nil {
		return err
	}
	return os.Rename(script, path)
}

// dumpWithoutTracking dumps the database at url through a custom-format
// archive in work, drops pgginkgo's tracking entries from its table of
// contents, and restores the rest with pg_restore's restoreArgs (a --file,
// or none for stdout, which it returns). Only an archive's table of
// contents can leave out single triggers.
func dumpWithoutTracking(ctx context.Context, h *Handle, url, work string, dumpArgs, restoreArgs []string) ([]byte, error) {
	archive, list := filepath.Join(work, "archive"), filepath.Join(work, "list")
	args := append([]string{"--format=custom", "--compress=0", "--no-sync", "--lock-wait-timeout=5s",
		"--exclude-schema=pgginkgo", "--file=" + archive, "--dbname=" + url}, dumpArgs...)
	if _, err := runTool(ctx, h, "pg_dump", args...); err != nil {
		return nil, err
	}
	toc, err := runTool(ctx, h, "pg_restore", "--list", archive)
	if err != nil {
		return nil, err
	}
	var kept []string
	for _, line := range strings.Split(string(toc), "\n") {
		if !trackingEntry.MatchString(line) {
			kept = append(kept, line)
		}
	}
	if err := os.WriteFile(list, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		return nil, err
	}
	return runTool(ctx, h, "pg_restore", append(append([]string{}, restoreArgs...), "--use-list="+list, archive)...)
}

// ClientTool returns the path of a PostgreSQL client program, such as
// "psql", "pg_dump" or "pg_restore", that works with the cluster's server:
// the one in BinDir beside the server, or else, for binaries that carry
// the server alone (the downloaded ones do), the installed one of the
// oldest major that is not older than the server's. psql, which connects
// to newer servers too, falls back to the newest installed one. The error
// says what to install when there is none.
//
//	psql, err := pgginkgo.Cluster().ClientTool(ctx, "psql")
func (h *Handle) ClientTool(ctx context.Context, name string) (string, error) {
	path, err := binaries.ClientTool(ctx, h.BinDir, name, binaries.Major(h.Version))
	if err != nil {
		return "", fmt.Errorf("pgginkgo: %w", err)
	}
	return path, nil
}

// runTool runs a client tool for the cluster and returns its output: the
// one beside the server, or else an installed one that supports the
// server's version (binaries.ClientTool). Its output goes to buffers, never
// to this process's stdout or stderr, which Ginkgo intercepts under
// ginkgo -p.
func runTool(ctx context.Context, h *Handle, tool string, args ...string) ([]byte, error) {
	path, err := h.ClientTool(ctx, tool)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "PGAPPNAME=pgginkgo-dump", "PGCONNECT_TIMEOUT=10")
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// reportFailureDumps adds, at the end of the suite on process 1, the
// run's dumps and the failed specs left out of them to the report and the
// log.
func reportFailureDumps(ctx context.Context, conn *pgx.Conn, log *slog.Logger) {
	if dumps.limit == 0 || conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if h := suiteState.handle; h != nil && h.External {
		c, err := connect(ctx, h, runDatabaseName(h))
		if err != nil {
			return // no spec failed: the run's database was never created
		}
		defer c.Close(context.WithoutCancel(ctx))
		conn = c
	}
	rows, err := conn.Query(ctx, `SELECT n, spec, coalesce(file, ''), coalesce(problem, '') FROM `+dumpTable+` ORDER BY n`)
	if err != nil {
		return
	}
	var written, failed, left []string
	for rows.Next() {
		var n int64
		var spec, file, problem string
		if rows.Scan(&n, &spec, &file, &problem) != nil {
			continue
		}
		switch {
		case n > int64(dumps.limit):
			left = append(left, "  "+spec)
		case file != "":
			written = append(written, fmt.Sprintf("  %s\n    %s", spec, file))
		case problem != "":
			failed = append(failed, fmt.Sprintf("  %s: %s", spec, problem))
		}
	}
	if rows.Err() != nil || len(written)+len(failed)+len(left) == 0 {
		return
	}
	var b strings.Builder
	if len(written) > 0 {
		fmt.Fprintf(&b, "%d failed spec database(s) dumped:\n%s\n", len(written), strings.Join(written, "\n"))
		fmt.Fprintf(&b, "restore one into an empty database with: %s\n", restoreCommand("FILE"))
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "%d dump(s) failed:\n%s\n", len(failed), strings.Join(failed, "\n"))
	}
	if len(left) > 0 {
		fmt.Fprintf(&b, "%d failed spec(s) left out: the cap is %d dump(s) per run; raise it with pgginkgo.FailureDumps(n):\n%s\n",
			len(left), dumps.limit, strings.Join(left, "\n"))
		log.Warn("failed specs left out of the failure dumps", "count", len(left), "cap", dumps.limit)
	}
	log.Info("failure dumps", "dumped", len(written), "failed", len(failed), "leftOut", len(left))
	ginkgo.AddReportEntry("pgginkgo failure dumps", strings.TrimSuffix(b.String(), "\n"), ginkgo.ReportEntryVisibilityAlways)
}

// dumpCounter is where dumpTable lives: the maintenance database of a
// cluster of our own. On an existing server that database is every run's,
// and may not be writable, so the table goes in a database of the run's
// own, created at its first failure and dropped with the run's others.
func dumpCounter(ctx context.Context) (template.DB, error) {
	procPools.mu.Lock()
	defer procPools.mu.Unlock()
	h := procPools.h
	if !h.External {
		return procPools.admin, nil
	}
	if procPools.runDB != nil {
		return procPools.runDB, nil
	}
	name := runDatabaseName(h)
	if err := procPools.adm.Create(ctx, name); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "42P04" && pgErr.Code != "23505") { // created by another process
			return nil, err
		}
	}
	pool, err := h.pool(context.WithoutCancel(ctx), name, 2)
	if err != nil {
		return nil, err
	}
	procPools.runDB = pool
	return pool, nil
}

// runDatabaseName is the run's own database on an existing server.
func runDatabaseName(h *Handle) string { return "pgg_" + h.RunID + "_run" }
