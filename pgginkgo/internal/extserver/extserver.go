//go:build unix

// Package extserver starts the PostgreSQL servers that stand in for "an
// existing PostgreSQL server" in the tests of pgginkgo's external-server
// mode.
//
// Start runs a second, independent server with the installed binaries,
// without pgginkgo's own start-up machinery, so a test exercises the
// external mode against a server pgginkgo did not make: it listens on TCP
// only, asks for a scram-sha-256 password, keeps its data on tmpfs
// (/dev/shm), and runs as nobody when the tests run as root.
//
//	srv, err := extserver.Start(ctx, extserver.Options{})
//	if err != nil { ... }
//	defer srv.Stop()
//	os.Setenv("PGGINKGO_SERVER_URL", srv.SuperURL())
//
// StartFake answers the start-up handshake as a server of any version,
// for the versions that cannot be installed on the test machine.
package extserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
)

// superUser is the bootstrap superuser initdb creates.
const superUser = "admin"

// Waits that bound Start and Stop.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
	bindAttempts = 5
)

// Options configure Start. The zero value is ready to use.
type Options struct {
	// BinDir holds initdb and postgres. Default: the bin directory of
	// PGGINKGO_BINARIES when it is set (the installation root or its bin/),
	// else the newest /usr/lib/postgresql/<major>/bin that has initdb.
	BinDir string
	// Settings are extra postgres settings, passed as -c name=value. They
	// win over the defaults Start sets.
	Settings map[string]string
	// Logf, when set, receives a line for each step (directory, port,
	// shutdown), e.g. t.Logf.
	Logf func(format string, args ...any)
}

// Server is a running PostgreSQL server started by Start. Stop it when done.
type Server struct {
	dir      string
	password string
	port     int
	logf     func(format string, args ...any)

	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait has returned
	waitErr error         // cmd.Wait's result; read only after exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Start initialises a fresh cluster in a new directory under /dev/shm and
// starts postgres on a free port of 127.0.0.1. It returns once the
// superuser can connect, or with an error that holds the end of the server
// log. ctx bounds the start only; the server runs until Stop.
func Start(ctx context.Context, o Options) (*Server, error) {
	bin, err := binDir(o.BinDir)
	if err != nil {
		return nil, err
	}
	cred, err := runAccount()
	if err != nil {
		return nil, err
	}
	password, err := randomPassword(24)
	if err != nil {
		return nil, err
	}
	dir, err := makeDir(cred)
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, password: password, logf: o.Logf}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	started := false
	defer func() {
		if !started {
			_ = s.Stop()
		}
	}()

	s.logf("extserver: initdb in %s", dir)
	if err := s.initdb(ctx, bin, cred); err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "sock")
	if err := mkdirFor(sock, cred); err != nil {
		return nil, err
	}
	args := serverArgs(sock, o.Settings)
	for attempt := 1; ; attempt++ {
		err := s.launch(ctx, bin, cred, args)
		if err == nil {
			break
		}
		if !errors.Is(err, errPortTaken) || attempt == bindAttempts {
			return nil, err
		}
		s.logf("extserver: %v; trying another port", err)
	}
	s.logf("extserver: postgres (pid %d) ready on 127.0.0.1:%d", s.PID(), s.port)
	started = true
	return s, nil
}

// Port is the TCP port the server listens on, on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// PID is the postmaster's process ID.
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Dir is the server's directory: data/ (the cluster), sock/ (its Unix
// socket) and server.log. Stop removes it.
func (s *Server) Dir() string { return s.dir }

// LogPath is the server log, which holds postgres's stdout and stderr.
func (s *Server) LogPath() string { return filepath.Join(s.dir, "server.log") }

// SuperUser returns the name and password of the bootstrap superuser.
func (s *Server) SuperUser() (user, password string) { return superUser, s.password }

// URL returns postgres://user:password@127.0.0.1:port/db?sslmode=disable,
// with user and password escaped for a URL. db "" means "postgres".
func (s *Server) URL(user, password, db string) string {
	if db == "" {
		db = "postgres"
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// SuperURL is the URL of the superuser on the postgres database.
func (s *Server) SuperURL() string { return s.URL(superUser, s.password, "") }

// CreateRole creates, as the superuser, a LOGIN role with this password and
// the attributes attrs, which are SQL as CREATE ROLE takes them (e.g.
// "CREATEDB"; "" for none).
func (s *Server) CreateRole(ctx context.Context, name, password, attrs string) error {
	conn, err := pgx.Connect(ctx, s.SuperURL())
	if err != nil {
		return fmt.Errorf("extserver: create role %q: connect as %s: %w", name, superUser, err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	sql := fmt.Sprintf("CREATE ROLE %s LOGIN %s PASSWORD %s", sqlquote.Ident(name), attrs, sqlquote.Literal(password))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("extserver: create role %q: %w", name, err)
	}
	return nil
}

// Stop shuts the server down and removes Dir. It sends SIGINT (fast
// shutdown) to the postmaster it started, and no other process, waits up
// to 30 s, then sends SIGKILL. Calling it again returns the first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.cmd != nil {
			errs = append(errs, s.halt())
		}
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("extserver: remove %s: %w", s.dir, err))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// halt stops the postmaster. Signalling through cmd.Process is safe: the
// process is not reaped until cmd.Wait returns, so its PID cannot have been
// reused, and os.Process refuses to signal once it has been reaped.
func (s *Server) halt() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	pid := s.cmd.Process.Pid
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("extserver: stop postgres (pid %d): %w", pid, err)
	}
	select {
	case <-s.exited:
		s.logf("extserver: postgres (pid %d) stopped", pid)
		return nil
	case <-time.After(stopTimeout):
	}
	s.logf("extserver: postgres (pid %d) ignored SIGINT for %s; sending SIGKILL", pid, stopTimeout)
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("extserver: kill postgres (pid %d): %w", pid, err)
	}
	<-s.exited
	return nil
}

// initdb creates the cluster in dir/data. The password goes through a
// 0600 file that is removed as soon as initdb has read it.
func (s *Server) initdb(ctx context.Context, bin string, cred *syscall.Credential) error {
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("extserver: write password file: %w", err)
	}
	defer func() { _ = os.Remove(pwfile) }()
	if err := chown(pwfile, cred); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", filepath.Join(s.dir, "data"), "-U", superUser, "--auth=scram-sha-256",
		"--pwfile="+pwfile, "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("extserver: %s: %w\n%s", cmd, err, out)
	}
	return nil
}

// errPortTaken marks a start that lost its port to another process between
// freePort and postgres binding it; Start retries with another port.
var errPortTaken = errors.New("port already in use")

// launch starts postgres on a free port and waits until it accepts the
// superuser. On failure no postgres is left running.
func (s *Server) launch(ctx context.Context, bin string, cred *syscall.Credential, args []string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(s.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("extserver: open server log: %w", err)
	}
	defer func() { _ = logf.Close() }()

	cmd := exec.Command(filepath.Join(bin, "postgres"),
		append([]string{"-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(port)}, args...)...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group keeps a Ctrl-C of the test run from reaching
	// postgres before Stop does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("extserver: start %s: %w", cmd.Path, err)
	}
	s.cmd, s.port, s.exited = cmd, port, make(chan struct{})
	go func(exited chan struct{}) {
		s.waitErr = cmd.Wait()
		close(exited)
	}(s.exited)

	err = s.waitReady(ctx)
	if err == nil {
		return nil
	}
	_ = cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
	return err
}

// waitReady connects as the superuser until that works, the postmaster
// exits, or readyTimeout passes.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attempt, s.SuperURL())
		cancelAttempt()
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		last = err
		select {
		case <-s.exited:
			tail := logTail(s.LogPath(), 20)
			if strings.Contains(tail, "could not bind") {
				return fmt.Errorf("extserver: postgres could not bind 127.0.0.1:%d: %w", s.port, errPortTaken)
			}
			return fmt.Errorf("extserver: postgres exited before accepting connections (%v); the end of its log:\n%s",
				s.waitErr, tail)
		case <-ctx.Done():
			return fmt.Errorf("extserver: postgres did not accept connections on 127.0.0.1:%d: %w (last attempt: %v); the end of its log:\n%s",
				s.port, ctx.Err(), last, logTail(s.LogPath(), 20))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
