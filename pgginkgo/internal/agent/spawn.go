//go:build !windows

package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/image"
)

// Process is the parent's end of a running agent.
type Process struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	logger   *slog.Logger
	msgs     chan Message
	exited   chan struct{}
	stopOnce sync.Once
	stopErr  error

	mu     sync.Mutex
	stderr []byte // the last stderrKeep bytes the agent wrote to stderr
	// stderrDone is closed once the agent's stderr reaches EOF, so that
	// died quotes all of it.
	stderrDone chan struct{}
}

// stderrKeep is how much of the agent's stderr a Process keeps, for the
// error when the agent ends without saying why (a panic, a signal).
const stderrKeep = 4 << 10

// Spawn re-executes the running binary as an agent, optionally under another
// account, sends it cfg, and waits until the cluster is ready.
func Spawn(ctx context.Context, cfg Config, acct *Account, logger *slog.Logger) (*Process, Message, error) {
	exe, err := selfExecutable()
	if err != nil {
		return nil, Message{}, err
	}
	if cfg.WatchPID > 0 && cfg.WatchStart == 0 {
		// Read here, before the agent starts, so that a PID reused in
		// between is not mistaken for the process.
		cfg.WatchStart, _ = procStart(cfg.WatchPID)
	}
	cmd := exec.Command(exe)
	cmd.Env = agentEnv()
	// A session of its own keeps the agent out of the signals sent to the
	// test's process group (Ctrl-C, a CI job cancelled with kill -9 -PGID).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if acct != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: acct.UID, Gid: acct.GID, Groups: []uint32{}}
	}
	cmd.Dir = "/"
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, Message{}, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, Message{}, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return nil, Message{}, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		who := "the current user"
		if acct != nil {
			who = acct.String()
		}
		return nil, Message{}, fmt.Errorf("starting the lifecycle helper (%s as %s): %w; the test binary must be executable by that account", exe, who, err)
	}
	outW.Close()
	errW.Close()
	p := &Process{cmd: cmd, stdin: stdin, logger: logger, msgs: make(chan Message, 16), exited: make(chan struct{}), stderrDone: make(chan struct{})}
	go p.readMessages(outR)
	go p.readStderr(errR)
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()

	if _, err := stdin.Write(encode(cfg)); err != nil {
		// A broken pipe means the helper is gone: its status says why.
		p.kill()
		return nil, Message{}, fmt.Errorf("sending config to the lifecycle helper (%v): %w", err, p.died())
	}
	select {
	case m, ok := <-p.msgs:
		if ok && m.Type == "ready" {
			return p, m, nil
		}
		<-p.exited
		if ok && m.Type == "error" && m.Error != "" {
			return nil, Message{}, errors.New(m.Error)
		}
		return nil, Message{}, p.died()
	case <-ctx.Done():
		_ = p.Stop(30 * time.Second)
		return nil, Message{}, fmt.Errorf("waiting for postgres to start: %w", ctx.Err())
	}
}

func selfExecutable() (string, error) {
	if runtime.GOOS == "linux" {
		// Works for another uid even when the binary sits in a 0700 build
		// directory, because the kernel resolves the link without walking
		// the path.
		return "/proc/self/exe", nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locating the test binary to start the lifecycle helper: %w", err)
	}
	return exe, nil
}

// agentEnv passes little: the agent needs PATH, time zone and locale hints;
// PG* variables of the caller must not steer the agent's own connections.
func agentEnv() []string {
	env := []string{Marker + "=1"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == Marker, strings.HasPrefix(k, "PG"):
		case k == "PATH", k == "TZ", k == "TZDIR", k == "TMPDIR", k == "LANG", strings.HasPrefix(k, "LC_"):
			env = append(env, kv)
		}
	}
	return env
}

func (p *Process) readMessages(r io.ReadCloser) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var m Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			p.logger.Warn("lifecycle helper: unreadable output", "line", sc.Text())
			continue
		}
		switch {
		case m.Type == "log":
			p.logger.Log(context.Background(), parseLevel(m.Level), m.Msg, attrs(m.Attrs)...)
			continue
		case m.Type == "exited" && m.Exit != nil:
			// Not a reply to a command: logged, because the specs that
			// fail next show only their own error (other processes read
			// the same from ExitedFile).
			p.logger.Error("PostgreSQL exited unexpectedly", "status", m.Exit.Status, "pid", m.Exit.PostgresPID,
				"log", m.Exit.Log, "logTail", strings.Join(m.Exit.LogTail, "\n"))
			continue
		}
		p.msgs <- m
	}
	close(p.msgs)
}

func (p *Process) readStderr(r io.ReadCloser) {
	defer close(p.stderrDone)
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.logger.Warn("lifecycle helper stderr", "line", sc.Text())
		p.mu.Lock()
		p.stderr = append(p.stderr, sc.Bytes()...)
		p.stderr = append(p.stderr, '\n')
		if over := len(p.stderr) - stderrKeep; over > 0 {
			p.stderr = append(p.stderr[:0], p.stderr[over:]...)
		}
		p.mu.Unlock()
	}
}

// stderrTail is the tail of what the agent wrote to its stderr.
func (p *Process) stderrTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.stderr)
}

// died is the error for an agent that ended without a message: its exit
// status or signal and the tail of its stderr, where a panic's trace goes.
// Call it once p.exited is closed.
func (p *Process) died() error {
	select {
	case <-p.stderrDone:
	case <-time.After(time.Second): // a child of the agent may hold the pipe
	}
	status, _, _ := describeExit(p.cmd.ProcessState)
	if out := strings.TrimSpace(p.stderrTail()); out != "" {
		return fmt.Errorf("the lifecycle helper (pid %d) ended (%s) without a reply; its stderr ends with:\n%s", p.cmd.Process.Pid, status, out)
	}
	return fmt.Errorf("the lifecycle helper (pid %d) ended (%s) without a reply and wrote nothing to stderr; something outside pgginkgo killed it (the OOM killer, a CI timeout?)", p.cmd.Process.Pid, status)
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func attrs(m map[string]any) []any {
	out := make([]any, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

// Stop asks the agent to stop PostgreSQL and remove the cluster, and waits
// for it. It is safe to call more than once.
func (p *Process) Stop(timeout time.Duration) error {
	p.stopOnce.Do(func() {
		_, _ = p.stdin.Write(encode(Command{Cmd: "stop"}))
		p.stdin.Close()
		deadline := time.After(timeout)
		stopped := false
		// Read what the agent said until its stdout closes, and wait for
		// it to exit; its last words explain a failure better than its
		// exit status.
		msgs, exited := p.msgs, p.exited
		var drain <-chan time.Time
		for msgs != nil || exited != nil {
			select {
			case m, ok := <-msgs:
				if !ok {
					msgs = nil
					continue
				}
				stopped = stopped || m.Type == "stopped"
				if m.Type == "error" && p.stopErr == nil {
					p.stopErr = errors.New(m.Error)
				}
			case <-exited:
				exited = nil
				drain = time.After(time.Second) // a child may hold the pipe
			case <-drain:
				msgs = nil
			case <-deadline:
				p.kill()
				p.stopErr = fmt.Errorf("lifecycle helper did not stop within %s; killed it", timeout)
				return
			}
		}
		if !stopped && p.stopErr == nil && !p.cmd.ProcessState.Success() {
			p.stopErr = p.died()
		}
	})
	return p.stopErr
}

func (p *Process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Seal asks the agent to turn its cluster, booted on an image miss, into
// the image, and waits until PostgreSQL runs again. The returned message
// carries the port, which may have changed, and the image's state.
func (p *Process) Seal(ctx context.Context, templates []image.Template) (Message, error) {
	if _, err := p.stdin.Write(encode(Command{Cmd: "seal", Templates: templates})); err != nil {
		return Message{}, fmt.Errorf("asking the lifecycle helper to store the image: %w", err)
	}
	select {
	case m, ok := <-p.msgs:
		switch {
		case !ok:
			<-p.exited
			return Message{}, fmt.Errorf("storing the image: %w", p.died())
		case m.Type == "sealed":
			return m, nil
		case m.Type == "error":
			return Message{}, errors.New(m.Error)
		default:
			return Message{}, fmt.Errorf("the lifecycle helper answered %q to seal", m.Type)
		}
	case <-ctx.Done():
		return Message{}, fmt.Errorf("waiting for the image to be stored: %w", ctx.Err())
	}
}
