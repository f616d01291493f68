// Package agent runs the PostgreSQL lifecycle in a helper process.
//
// The test binary re-executes itself with a marker variable; the init function
// in this package intercepts that marker before any test code runs and turns
// the process into the agent. The agent owns the postmaster: it sweeps what
// crashed runs left, boots a cluster from the migrated image or the warm
// initdb cache, turns a cluster into an image when asked to seal it,
// reports readiness over its stdout, and stops PostgreSQL and removes the
// cluster's directories when its parent says so or when its stdin reaches EOF
// (the parent exited, possibly through SIGKILL).
package agent

import (
	"encoding/json"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/image"
)

// Marker is the environment variable that turns a re-executed test binary
// into an agent.
const Marker = "PGGINKGO_AGENT"

// Config is the first line the parent writes to the agent's stdin.
type Config struct {
	BinDir     string            `json:"binDir"`
	BinRoot    string            `json:"binRoot"`
	Version    string            `json:"version"`  // full server version, e.g. "15.18"
	CacheDir   string            `json:"cacheDir"` // initdb cache root, owned by the agent's uid
	BaseDir    string            `json:"baseDir"`  // where cluster directories live, owned by the agent's uid
	User       string            `json:"user"`
	Verifier   string            `json:"verifier"` // SCRAM verifier of the password; the password itself never leaves the parent
	Locale     string            `json:"locale"`
	Encoding   string            `json:"encoding"`
	Port       int               `json:"port"` // 0 picks a free one
	Settings   map[string]string `json:"settings"`
	StartLimit time.Duration     `json:"startLimit"`
	ParentPID  int               `json:"parentPid"`
	// WatchPID, when > 0, is a process whose end stops and removes the
	// cluster as a stop command would: the ginkgo CLI, whose test
	// processes do not notice for about a minute that it was killed.
	// WatchStart is its start time (clock ticks since boot, from
	// /proc/<pid>/stat), which guards against the PID's reuse; 0 makes the
	// agent read it when it starts watching.
	WatchPID   int    `json:"watchPid,omitempty"`
	WatchStart uint64 `json:"watchStart,omitempty"`
	// Image, when set, boots the cluster from a migrated image, or readies
	// it to become one.
	Image *ImageRequest `json:"image,omitempty"`
}

// ImageRequest asks for the image of Base holding at least Ready ready
// databases per template.
type ImageRequest struct {
	Store    string       `json:"store"` // the image directory, owned by the agent's uid
	Base     string       `json:"base"`  // the hash of everything that shapes the image
	Ready    int          `json:"ready"`
	Limits   image.Limits `json:"limits"`
	Describe []string     `json:"describe,omitempty"` // recorded in the manifest
}

// Image states reported in the ready message.
const (
	ImageHit         = "hit"         // booted from an image: templates and ready databases are in place
	ImageBuild       = "build"       // booted from the initdb cache; the agent holds the build lock until seal
	ImageUnavailable = "unavailable" // the cache cannot take an image; see ImageNote
)

// Message is one line the agent writes to its stdout.
type Message struct {
	Type string `json:"type"` // "log", "ready", "sealed", "error", "exited", "stopped"

	// log
	Level string         `json:"level,omitempty"`
	Msg   string         `json:"msg,omitempty"`
	Attrs map[string]any `json:"attrs,omitempty"`

	// ready
	Port        int    `json:"port,omitempty"`
	Dir         string `json:"dir,omitempty"`
	SocketDir   string `json:"socketDir,omitempty"`
	DataDir     string `json:"dataDir,omitempty"`
	AgentPID    int    `json:"agentPid,omitempty"`
	PostgresPID int    `json:"postgresPid,omitempty"`
	CacheHit    bool   `json:"cacheHit,omitempty"`

	// ready (with an ImageRequest) and sealed
	Image     string           `json:"image,omitempty"`     // one of the Image* states
	ImageKey  string           `json:"imageKey,omitempty"`  // the image booted from, or built
	ImageNote string           `json:"imageNote,omitempty"` // why the image is unavailable or was not stored
	Templates []image.Template `json:"templates,omitempty"` // what the image holds (hit)
	Took      time.Duration    `json:"took,omitempty"`      // time spent copying the image in, or building it

	// error
	Error string `json:"error,omitempty"`

	// exited: PostgreSQL died on its own after it was ready
	Exit *Exit `json:"exit,omitempty"`
}

// Command is a line the parent writes after Config.
type Command struct {
	Cmd string `json:"cmd"` // "stop" or "seal"
	// seal: what the parent built in the cluster, recorded in the manifest
	Templates []image.Template `json:"templates,omitempty"`
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain data goes through here; a failure is a programming error.
		panic(err)
	}
	return append(b, '\n')
}
