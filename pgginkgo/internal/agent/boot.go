//go:build !windows

package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/image"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
)

// cluster is one running postmaster and the directory that holds everything
// of it: data/, sock/, the lock the sweep looks at, and postgres.log.
type cluster struct {
	dir, dataDir, sockDir, logPath string
	port                           int
	cmd                            *exec.Cmd
	exited                         chan struct{}
	lock                           *flock.Lock
	cacheHit                       bool
	img                            imageState
}

func boot(ctx context.Context, cfg Config, o *out) (*cluster, error) {
	began := time.Now()
	if err := os.MkdirAll(cfg.BaseDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating cluster base directory %s: %w (set TMPDIR to a writable directory)", cfg.BaseDir, err)
	}
	step := time.Now()
	swept := sweep(cfg.BaseDir, o)
	o.log("DEBUG", "swept stale clusters", map[string]any{"removed": swept, "took": time.Since(step).String()})

	c := &cluster{}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	c.dir = filepath.Join(cfg.BaseDir, "c-"+hex.EncodeToString(suffix))
	c.dataDir = filepath.Join(c.dir, "data")
	c.sockDir = filepath.Join(c.dir, "sock")
	c.logPath = filepath.Join(c.dir, "postgres.log")
	if err := os.Mkdir(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating cluster directory: %w", err)
	}
	fail := func(err error) (*cluster, error) {
		c.shutdown()
		c.img.release()
		os.RemoveAll(c.dir)
		return nil, err
	}
	// Holding this lock for our whole life tells a later sweep that the
	// cluster is alive; the kernel drops it however we die. Another
	// agent's sweep may hold it for an instant, between taking it and
	// finding no owner.json (see sweep).
	var err error
	if c.lock, err = flock.Retry(filepath.Join(c.dir, "lock"), false, 5*time.Second); err != nil {
		return fail(fmt.Errorf("locking cluster directory: %w", err))
	}
	owner, _ := json.Marshal(map[string]any{"agentPid": os.Getpid(), "parentPid": cfg.ParentPID, "started": time.Now().UTC()})
	_ = os.WriteFile(filepath.Join(c.dir, "owner.json"), owner, 0o600)
	if err := os.Mkdir(c.sockDir, 0o700); err != nil {
		return fail(fmt.Errorf("creating socket directory: %w", err))
	}
	if cfg.Image != nil {
		if err := c.fromImage(ctx, cfg, o); err != nil {
			return fail(err)
		}
	}
	if c.img.state != ImageHit {
		step = time.Now()
		cached, hit, err := ensureCache(ctx, cfg, o)
		if err != nil {
			return fail(err)
		}
		c.cacheHit = hit
		o.log("INFO", "initdb cache ready", map[string]any{"hit": hit, "dir": cached, "took": time.Since(step).String()})
		step = time.Now()
		if err := image.CopyTree(ctx, cached, c.dataDir); err != nil {
			return fail(fmt.Errorf("copying cached data directory into place: %w", err))
		}
		o.log("DEBUG", "data directory copied", map[string]any{"took": time.Since(step).String()})
	}

	step = time.Now()
	if err := c.start(ctx, cfg, o, 0); err != nil {
		return fail(err)
	}
	o.log("INFO", "postgres ready", map[string]any{"port": c.port, "took": time.Since(step).String(), "total": time.Since(began).String()})
	return c, nil
}

// start launches the postmaster as our child and waits until it accepts
// connections. A port picked as free can be taken by another suite before
// postgres binds it, so a bind failure is retried on a new port.
//
// prefer, when not 0, is tried first: a restart after sealing an image keeps
// the port the parent already handed out when it can.
func (c *cluster) start(ctx context.Context, cfg Config, o *out, prefer int) error {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := cfg.Port
		if port == 0 && attempt == 0 && prefer != 0 {
			port = prefer
		} else if port == 0 {
			p, err := freePort()
			if err != nil {
				return err
			}
			port = p
		}
		err := c.launch(ctx, cfg, port)
		if err == nil {
			err = c.waitReady(ctx, cfg, port)
		}
		if err == nil {
			c.port = port
			return setPassword(ctx, c.sockDir, port, cfg)
		}
		lastErr = err
		c.shutdown()
		logTail := tail(c.logPath, 4096)
		if cfg.Port == 0 && strings.Contains(logTail, "could not bind") {
			o.log("WARN", "port taken before postgres bound it; retrying", map[string]any{"port": port})
			continue
		}
		return fmt.Errorf("starting postgres: %w\npostgres log:\n%s", err, logTail)
	}
	return fmt.Errorf("starting postgres: no free port after 5 attempts: %w", lastErr)
}

// ErrNoFreePort means the loopback interface has no port left to listen on.
var ErrNoFreePort = errors.New("no free TCP port on 127.0.0.1")

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("%w: %v (free ports, or pass pgginkgo.Port)", ErrNoFreePort, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *cluster) launch(ctx context.Context, cfg Config, port int) error {
	args := []string{"-D", c.dataDir, "-p", strconv.Itoa(port)}
	for k, v := range cfg.Settings {
		args = append(args, "-c", k+"="+v)
	}
	if _, set := cfg.Settings["wal_recycle"]; !set {
		// Recycled WAL segments would be kept, and copied with every
		// image; a test cluster gains nothing from reusing them.
		args = append(args, "-c", "wal_recycle=off")
	}
	if _, set := cfg.Settings["dynamic_shared_memory_type"]; !set {
		// posix segments live in /dev/shm, where a postmaster killed with
		// SIGKILL leaves them for good; mmap ones live in data/pg_dynshmem
		// and go with the cluster directory.
		args = append(args, "-c", "dynamic_shared_memory_type=mmap")
	}
	args = append(args,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+c.sockDir,
	)
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(cfg.BinDir, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = postgresEnv(cfg)
	cmd.SysProcAttr = postmasterAttr()
	if err := startLocked(cmd); err != nil {
		return fmt.Errorf("running %s: %w", cmd.Path, err)
	}
	c.cmd = cmd
	c.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	return nil
}

func postgresEnv(cfg Config) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	if tz, ok := os.LookupEnv("TZ"); ok {
		env = append(env, "TZ="+tz)
	}
	return env
}

// waitReady polls the unix socket every 2 ms: pg_ctl's own wait loop polls at
// 100 ms, which would dominate a warm boot.
func (c *cluster) waitReady(ctx context.Context, cfg Config, port int) error {
	limit := cfg.StartLimit
	if limit <= 0 {
		limit = 60 * time.Second
	}
	deadline := time.Now().Add(limit)
	conf := socketConfig(c.sockDir, port, cfg)
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during startup (%v)", c.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := pgconn.ConnectConfig(cctx, conf.Copy())
		cancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %s: %w", limit, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// socketConfig connects over the private unix socket, where trust
// authentication is safe because only the cluster's account can reach it.
func socketConfig(sockDir string, port int, cfg Config) *pgconn.Config {
	conf, err := pgconn.ParseConfig("dbname=postgres sslmode=disable")
	if err != nil {
		panic(err) // constant input
	}
	conf.Host = sockDir
	if port != 0 {
		conf.Port = uint16(port)
	}
	conf.User = cfg.User
	conf.ConnectTimeout = time.Second
	conf.RuntimeParams = map[string]string{"application_name": "pgginkgo-agent"}
	return conf
}

func setPassword(ctx context.Context, sockDir string, port int, cfg Config) error {
	conn, err := pgconn.ConnectConfig(ctx, socketConfig(sockDir, port, cfg))
	if err != nil {
		return fmt.Errorf("connecting to set the password: %w", err)
	}
	defer conn.Close(ctx)
	// The parent sends a SCRAM verifier, not the password: even a
	// log_statement=all setting would not reveal the secret.
	q := fmt.Sprintf("ALTER ROLE %s PASSWORD %s", sqlquote.Ident(cfg.User), sqlquote.Literal(cfg.Verifier))
	if _, err := conn.Exec(ctx, q).ReadAll(); err != nil {
		return fmt.Errorf("setting the superuser password: %w", err)
	}
	return nil
}

// shutdown stops the postmaster: fast shutdown first, then immediate, then
// SIGKILL, so that a wedged server never keeps the suite alive.
func (c *cluster) shutdown() error {
	_, err := c.stopPostmaster()
	return err
}

// stopPostmaster is shutdown that also says whether the fast shutdown
// worked, which is what leaves a data directory clean enough to copy.
func (c *cluster) stopPostmaster() (clean bool, err error) {
	if c.cmd == nil || c.cmd.Process == nil {
		return true, nil
	}
	steps := []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, 10 * time.Second}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}}
	for i, s := range steps {
		_ = c.cmd.Process.Signal(s.sig)
		select {
		case <-c.exited:
			c.cmd = nil
			return i == 0, nil
		case <-time.After(s.wait):
		}
	}
	return false, fmt.Errorf("postgres (pid %d) did not exit after SIGKILL", c.cmd.Process.Pid)
}
