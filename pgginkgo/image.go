package pgginkgo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/agent"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/image"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// runtimeOnlySettings change how a server runs, never what a migration
// leaves on disk, so they stay out of an image's key: a suite may tune them
// without a rebuild. Every other setting is in the key, because a setting
// such as TimeZone, DateStyle or default_toast_compression can change the
// bytes a migration writes.
var runtimeOnlySettings = map[string]bool{
	"fsync": true, "synchronous_commit": true, "full_page_writes": true,
	"shared_buffers": true, "max_connections": true, "max_wal_senders": true,
	"wal_level": true, "jit": true, "work_mem": true, "maintenance_work_mem": true,
	"effective_cache_size": true, "max_wal_size": true, "min_wal_size": true,
	"checkpoint_timeout": true, "wal_recycle": true, "wal_buffers": true,
	"temp_buffers": true, "max_parallel_workers_per_gather": true,
	"max_worker_processes": true, "max_parallel_workers": true,
	"max_parallel_maintenance_workers": true, "autovacuum": true,
	"statement_timeout": true, "lock_timeout": true, "idle_in_transaction_session_timeout": true,
	"deadlock_timeout": true, "max_locks_per_transaction": true, "max_pred_locks_per_transaction": true,
	"max_prepared_transactions": true, "huge_pages": true, "dynamic_shared_memory_type": true,
	"tcp_keepalives_idle": true, "tcp_keepalives_interval": true, "tcp_keepalives_count": true,
}

func isRuntimeOnly(setting string) bool {
	s := strings.ToLower(setting)
	return runtimeOnlySettings[s] || strings.HasPrefix(s, "log_") || strings.HasPrefix(s, "debug_") ||
		strings.HasPrefix(s, "track_") || strings.HasPrefix(s, "autovacuum_")
}

// imageEnv reads PGGINKGO_IMAGE: "off" bypasses the image cache, "on" (or
// unset) uses it.
func imageEnv() (on bool, err error) {
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv("PGGINKGO_IMAGE"))); v {
	case "", "on", "1", "true", "yes":
		return true, nil
	case "off", "0", "false", "no":
		return false, nil
	default:
		return false, fmt.Errorf("PGGINKGO_IMAGE=%q: use off to bypass the migrated image, or on (the default)", v)
	}
}

// imageKey hashes everything that shapes an image's bytes. When in doubt,
// an input belongs here: a stale image would hand out a wrong schema, while
// a needless rebuild costs one migration run.
func imageKey(ctx context.Context, cfg *config, res binaries.Result) (base string, describe []string, err error) {
	lines := []string{
		fmt.Sprintf("image format %d", image.FormatVersion),
		"server " + res.Version,
		"binaries " + binariesIdentity(res.BinDir),
		"superuser " + cfg.superuser,
		"locale " + cfg.locale,
		"encoding " + cfg.encoding,
		"templates " + template.HashVersion + ", recycle " + recycle.Version,
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.settings)) {
		if !isRuntimeOnly(k) {
			lines = append(lines, fmt.Sprintf("setting %s=%s", k, cfg.settings[k]))
		}
	}
	for i, t := range suiteTemplates(cfg) {
		lines = append(lines, fmt.Sprintf("template %d %s", i, t.Name))
		for j, src := range t.Sources {
			var fp string
			if i < len(cfg.fingerprints) && j < len(cfg.fingerprints[i]) {
				fp = cfg.fingerprints[i][j] // read by checkTemplates
			} else {
				var err error
				if fp, err = src.Fingerprint(ctx); err != nil {
					return "", nil, fmt.Errorf("pgginkgo: template %q, source %d: %w", t.Name, j+1, err)
				}
			}
			lines = append(lines, fmt.Sprintf("template %d source %d %s", i, j, fp))
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return fmt.Sprintf("pg%s-%s", res.Version, hex.EncodeToString(sum[:8])), lines, nil
}

// binariesIdentity names the binaries by path, size and modification time
// of the postgres executable: a reinstall or an upgrade in place changes it.
func binariesIdentity(binDir string) string {
	exe := filepath.Join(binDir, "postgres")
	st, err := os.Stat(exe)
	if err != nil {
		return exe
	}
	return fmt.Sprintf("%s size=%d mtime=%d", exe, st.Size(), st.ModTime().UnixNano())
}

// suiteTemplates are the templates a suite builds: the ones it defines, or
// one empty default template.
func suiteTemplates(cfg *config) []template.Template {
	if len(cfg.templates) == 0 {
		return []template.Template{{Name: DefaultTemplate}}
	}
	return cfg.templates
}

// readyDatabaseName names the i-th ready database of a template in an
// image: generic, so that any process of a later run can claim it.
func readyDatabaseName(tmpl string, i int) string {
	short := tmpl
	if len(short) > 24 {
		short = short[:24]
	}
	return fmt.Sprintf("pgg_%s_ready_%d", sanitize(short), i)
}

// installTemplates is what process 1 of a suite, and Prepare, do once the
// cluster runs: put every template in place (from the image when it came
// from one) and, when this run built them, store the image.
func (g *Guard) installTemplates(ctx context.Context, cfg *config, h *Handle, log *slog.Logger) error {
	built, err := buildTemplates(ctx, cfg, h, g.ready.Image == agent.ImageHit, log)
	if err != nil || g.server != nil { // an existing server keeps its templates: no image
		return err
	}
	return g.finishImage(ctx, cfg, h, built, log)
}

// finishImage runs on process 1 after the templates are in place. On an
// image miss it clones the ready databases and has the helper store the
// image; on a hit it hands out the ready databases the image holds.
func (g *Guard) finishImage(ctx context.Context, cfg *config, h *Handle, built []template.Built, log *slog.Logger) error {
	switch g.ready.Image {
	case "":
		return nil
	case agent.ImageHit:
		for _, b := range built {
			if !b.Reused {
				log.Warn("the image lacked a complete template, so this run built it; the image will be rebuilt once its key changes",
					"template", b.Name, "image", g.ready.ImageKey)
			}
		}
		h.Image = g.ready.ImageKey
		h.Ready = map[string][]string{}
		for _, t := range g.ready.Templates {
			if len(t.Ready) > 0 {
				h.Ready[t.Name] = t.Ready
			}
		}
		log.Info("templates came from the image: no migration applied", "image", g.ready.ImageKey,
			"copy", g.ready.Took.String(), "readyDatabases", len(h.Ready[h.DefaultTemplate]))
		return nil
	case agent.ImageUnavailable:
		log.Warn("the image cache cannot take an image, so this run applied the migrations in its own cluster and will again next time; make the cache directory writable (pgginkgo.CacheDir, PGGINKGO_CACHE_DIR), or set PGGINKGO_IMAGE=off to skip the image",
			"problem", g.ready.ImageNote)
		return nil
	}
	// A miss: this process holds the build lock until Seal.
	began := time.Now()
	tmpls := make([]image.Template, 0, len(built))
	conn, err := connect(ctx, h, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	admin, err := template.NewAdmin(ctx, conn)
	if err != nil {
		return fmt.Errorf("pgginkgo: %w", err)
	}
	for _, b := range built {
		t := image.Template{Name: b.Name, Database: b.Database}
		if b.Name == h.DefaultTemplate {
			for i := range cfg.imageReady {
				name := readyDatabaseName(b.Name, i)
				if err := admin.Clone(ctx, b.Database, name); err != nil {
					return fmt.Errorf("pgginkgo: preparing the image's ready databases: %w", err)
				}
				t.Ready = append(t.Ready, name)
			}
		}
		tmpls = append(tmpls, t)
	}
	if err := conn.Close(ctx); err != nil {
		return err
	}
	m, err := g.proc.Seal(ctx, tmpls)
	if err != nil {
		return fmt.Errorf("pgginkgo: storing the image: %w", err)
	}
	g.ready.PostgresPID = m.PostgresPID
	if m.Port != h.Port {
		if err := g.movePort(h, m.Port); err != nil {
			return err
		}
	}
	if err := ping(ctx, h); err != nil {
		return fmt.Errorf("pgginkgo: after storing the image: %w", err)
	}
	h.Ready = map[string][]string{}
	for _, t := range tmpls {
		if len(t.Ready) > 0 {
			h.Ready[t.Name] = t.Ready
		}
	}
	if m.Image == agent.ImageUnavailable {
		log.Warn("the image could not be stored, so the next run will apply the migrations again; free space in the cache directory or make it writable (pgginkgo.CacheDir, PGGINKGO_CACHE_DIR), or set PGGINKGO_IMAGE=off to skip the image",
			"problem", m.ImageNote)
		return nil
	}
	h.Image = m.ImageKey
	log.Info("image stored for later runs", "image", m.ImageKey, "took", time.Since(began).String())
	return nil
}

// movePort points the Handle and the passfile at a new port, after a
// restart could not get the old one back.
func (g *Guard) movePort(h *Handle, port int) error {
	h.Port = port
	h.Env["PGPORT"] = fmt.Sprint(port)
	g.ready.Port = port
	b, err := os.ReadFile(h.PassFile)
	if err != nil {
		return fmt.Errorf("pgginkgo: reading the passfile: %w", err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 {
			line = f[0] + ":" + fmt.Sprint(port) + ":" + f[2]
		}
		out = append(out, line)
	}
	return os.WriteFile(h.PassFile, []byte(strings.Join(out, "\n")+"\n"), 0o600)
}

func connect(ctx context.Context, h *Handle, db string) (*pgx.Conn, error) {
	cc, err := h.ConnConfig(db)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("pgginkgo: connecting to %s: %w", db, err)
	}
	return conn, nil
}

func imageOffReason(cfg *config) string {
	if cfg.noImage {
		return "pgginkgo.WithoutImage"
	}
	return "PGGINKGO_IMAGE=" + os.Getenv("PGGINKGO_IMAGE")
}
