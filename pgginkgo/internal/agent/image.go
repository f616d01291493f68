//go:build !windows

package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/image"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
)

// imageState is what a cluster knows of its image: the one it was booted
// from (whose use lock it holds for its life, so eviction spares it), or
// the one it is about to become (whose build lock it holds until sealed).
type imageState struct {
	state     string
	key       string
	note      string
	templates []image.Template
	took      time.Duration
	use       *flock.Lock
	build     *flock.Lock
}

func (s *imageState) release() {
	s.use.Release()
	s.build.Release()
}

// fromImage copies the image into the cluster's data directory when there
// is one; otherwise it takes the build lock, so that of many suites started
// at once one builds and the others wait for it, and leaves the cluster to
// boot from the initdb cache.
func (c *cluster) fromImage(ctx context.Context, cfg Config, o *out) error {
	req := cfg.Image
	store := image.Store{Dir: req.Store}
	key := image.Key(req.Base, req.Ready)
	c.img.key = key
	if swept := store.Sweep(); len(swept) > 0 {
		o.log("INFO", "removed what an interrupted image build left", map[string]any{"removed": swept})
	}
	damaged := ""
	try := func() (bool, error) {
		info, ok := store.Find(req.Base, req.Ready)
		if !ok || info.Key == damaged {
			return false, nil
		}
		began := time.Now()
		use := store.Use(info.Key)
		err := store.CopyOut(ctx, info, c.dataDir)
		if errors.Is(err, image.ErrDamaged) {
			use.Release()
			damaged = info.Key
			o.log("WARN", "the image is damaged; rebuilding it", map[string]any{"key": info.Key, "problem": err.Error()})
			return false, nil
		}
		if err != nil {
			use.Release()
			return false, fmt.Errorf("copying the image %s into place: %w", info.Key, err)
		}
		c.img = imageState{state: ImageHit, key: info.Key, templates: info.Manifest.Templates, took: time.Since(began), use: use}
		o.log("INFO", "image hit", map[string]any{"key": info.Key, "files": info.Files, "bytes": fmt.Sprint(info.Bytes), "took": c.img.took.String()})
		return true, nil
	}
	if ok, err := try(); ok || err != nil {
		return err
	}
	began := time.Now()
	waited := false
	build, err := store.LockBuild(ctx, key, func() {
		waited = true
		o.log("INFO", "waiting for another process to build the image", map[string]any{"key": key})
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.img = imageState{state: ImageUnavailable, key: key, note: err.Error()}
		return nil
	}
	if waited {
		o.log("INFO", "waited for the image build", map[string]any{"key": key, "took": time.Since(began).String()})
	}
	if ok, err := try(); ok || err != nil {
		build.Release()
		return err
	}
	if damaged != "" {
		if err := store.Remove(damaged); err != nil {
			o.log("WARN", "could not remove the damaged image", map[string]any{"key": damaged, "error": err.Error()})
		}
	}
	c.img = imageState{state: ImageBuild, key: key, build: build}
	o.log("INFO", "image miss: this run builds it", map[string]any{"key": key})
	return nil
}

// seal turns the running cluster into the image it holds the build lock
// for: it removes the run's password, shuts PostgreSQL down cleanly, copies
// the data directory into the image cache, and starts PostgreSQL again on
// the same data directory (and port, when it is still free). A cache that
// cannot take the image costs the run nothing but a warning.
func (c *cluster) seal(ctx context.Context, cfg Config, o *out, cmd Command) Message {
	if c.img.state != ImageBuild {
		return Message{Type: "error", Error: "seal: this cluster holds no image build; only a cluster booted with an image miss can be sealed"}
	}
	began := time.Now()
	req := cfg.Image
	store := image.Store{Dir: req.Store}
	key := c.img.key
	note := ""
	if err := clearPassword(ctx, c.sockDir, c.port, cfg); err != nil {
		note = err.Error()
	}
	clean, err := c.stopPostmaster()
	if err != nil {
		return Message{Type: "error", Error: fmt.Sprintf("seal: stopping postgres: %v", err)}
	}
	if !clean && note == "" {
		note = "postgres did not shut down cleanly, so its files are no consistent copy"
	}
	if note == "" {
		m := image.Manifest{Version: cfg.Version, Templates: cmd.Templates, Describe: req.Describe}
		info, err := store.Capture(ctx, key, c.dataDir, m)
		if err != nil {
			note = err.Error()
		} else {
			c.img.use = store.Use(key)
			o.log("INFO", "image built", map[string]any{"key": key, "files": info.Files, "bytes": fmt.Sprint(info.Bytes), "took": time.Since(began).String()})
			removed, err := store.Evict(ctx, req.Limits, false, key)
			for _, r := range removed {
				o.log("INFO", "evicted an image", map[string]any{"key": r.Key, "bytes": fmt.Sprint(r.Bytes), "lastUsed": r.LastUsed.UTC().Format(time.RFC3339)})
			}
			if err != nil {
				o.log("WARN", "image eviction failed", map[string]any{"error": err.Error()})
			}
		}
	}
	c.img.build.Release()
	c.img.build = nil
	if err := ctx.Err(); err != nil {
		return Message{Type: "error", Error: fmt.Sprintf("seal: %v", err)}
	}
	port := c.port
	if err := c.start(ctx, cfg, o, port); err != nil {
		return Message{Type: "error", Error: fmt.Sprintf("seal: restarting postgres: %v", err)}
	}
	state := ImageHit
	if note != "" {
		state = ImageUnavailable
	}
	c.img.state, c.img.note, c.img.took = state, note, time.Since(began)
	return Message{Type: "sealed", Port: c.port, PostgresPID: c.cmd.Process.Pid, Image: state, ImageKey: key, ImageNote: note, Took: c.img.took}
}

// clearPassword removes the run's password verifier, so that no secret of
// this run is stored in the image; the restart sets it again.
func clearPassword(ctx context.Context, sockDir string, port int, cfg Config) error {
	conn, err := pgconn.ConnectConfig(ctx, socketConfig(sockDir, port, cfg))
	if err != nil {
		return fmt.Errorf("connecting to clear the password: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ALTER ROLE "+sqlquote.Ident(cfg.User)+" PASSWORD NULL").ReadAll(); err != nil {
		return fmt.Errorf("clearing the superuser password: %w", err)
	}
	return nil
}
