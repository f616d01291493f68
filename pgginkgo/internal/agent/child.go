//go:build !windows

package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

func init() {
	if os.Getenv(Marker) != "1" {
		return
	}
	// The agent must outlive whatever kills its parent long enough to stop
	// PostgreSQL: an interrupt typed in a terminal reaches the parent, which
	// tells us to stop, or dies, which closes our stdin. SIGHUP arrives when a
	// terminal closes; the same reasoning applies.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE)
	os.Exit(Main(os.Stdin, os.Stdout))
}

// out serialises messages to the parent; the parent may already be gone, so
// write errors are ignored.
type out struct {
	mu sync.Mutex
	w  io.Writer
}

func (o *out) send(m Message) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = o.w.Write(encode(m))
}

func (o *out) log(level, msg string, attrs map[string]any) {
	o.send(Message{Type: "log", Level: level, Msg: msg, Attrs: attrs})
}

// Main runs the agent: read the config, boot, wait for stop or EOF, clean up.
// It returns the process exit code.
func Main(stdin io.Reader, stdout io.Writer) int {
	o := &out{w: stdout}
	in := bufio.NewReader(stdin)
	line, err := in.ReadBytes('\n')
	if err != nil {
		o.send(Message{Type: "error", Error: fmt.Sprintf("agent: reading config: %v", err)})
		return 2
	}
	var cfg Config
	if err := json.Unmarshal(line, &cfg); err != nil {
		o.send(Message{Type: "error", Error: fmt.Sprintf("agent: decoding config: %v", err)})
		return 2
	}

	// stop is closed when the parent asks us to stop or goes away; other
	// commands arrive on cmds.
	stop := make(chan struct{})
	cmds := make(chan Command, 1)
	var once sync.Once
	closeStop := func() { once.Do(func() { close(stop) }) }
	go func() {
		dec := json.NewDecoder(in)
		for {
			var c Command
			if err := dec.Decode(&c); err != nil {
				closeStop() // EOF: the parent exited, maybe by SIGKILL
				return
			}
			if c.Cmd == "stop" {
				closeStop()
				return
			}
			cmds <- c
		}
	}()
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		closeStop()
	}()
	if cfg.WatchPID > 0 {
		go watchProcess(cfg.WatchPID, cfg.WatchStart, stop, func() {
			o.log("WARN", "the ginkgo CLI that runs this suite has exited: stopping and removing the cluster, since its test processes would take a minute to notice",
				map[string]any{"pid": cfg.WatchPID})
			closeStop()
		}, func() {
			o.log("WARN", "cannot see the ginkgo CLI's process (is /proc mounted with hidepid?), so the cluster will outlive a CLI killed alone by a minute",
				map[string]any{"pid": cfg.WatchPID})
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel() // abort a boot in progress
	}()

	c, err := boot(ctx, cfg, o)
	if err != nil {
		o.send(Message{Type: "error", Error: err.Error()})
		return 1
	}
	o.send(Message{
		Type: "ready", Port: c.port, Dir: c.dir, SocketDir: c.sockDir, DataDir: c.dataDir,
		AgentPID: os.Getpid(), PostgresPID: c.cmd.Process.Pid, CacheHit: c.cacheHit,
		Image: c.img.state, ImageKey: c.img.key, ImageNote: c.img.note, Templates: c.img.templates, Took: c.img.took,
	})

	// The processes a dead postmaster leaves become ours rather than
	// init's, so that died can end them.
	if err := becomeSubreaper(); err != nil {
		o.log("DEBUG", "cannot adopt the processes a dead postmaster would leave", map[string]any{"error": err.Error()})
	}

	dead := false
wait:
	for {
		// A postmaster stopped on purpose (a failed restart after seal)
		// leaves c.cmd nil; only one that dies on its own is reported.
		var exited <-chan struct{}
		if !dead && c.cmd != nil {
			exited = c.exited
		}
		select {
		case <-stop:
			break wait
		case <-exited:
			// Keep the directory, and so the log, until the suite ends:
			// other processes read exited.json before each spec.
			dead = true
			c.died(o)
		case cmd := <-cmds:
			switch {
			case dead:
				o.send(Message{Type: "error", Error: fmt.Sprintf("agent: %s: PostgreSQL is no longer running; see %s", cmd.Cmd, filepath.Join(c.dir, ExitedFile))})
			case cmd.Cmd == "seal":
				o.send(c.seal(ctx, cfg, o, cmd))
			default:
				o.send(Message{Type: "error", Error: fmt.Sprintf("agent: unknown command %q", cmd.Cmd)})
			}
		}
	}
	began := time.Now()
	err = c.shutdown()
	c.img.release()
	if rmErr := os.RemoveAll(c.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("removing cluster directory %s: %w", c.dir, rmErr)
	}
	if err != nil {
		o.send(Message{Type: "error", Error: err.Error()})
		return 1
	}
	o.log("INFO", "cluster stopped and removed", map[string]any{"dir": c.dir, "took": time.Since(began).String()})
	o.send(Message{Type: "stopped"})
	return 0
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	b := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	return string(b)
}
