package agent

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ExitedFile is the file, in a cluster's directory, in which the agent
// records how PostgreSQL died when it died on its own after it was ready.
// The agent keeps the directory, and so this file and the server log, until
// it is told to stop or its parent goes away.
const ExitedFile = "exited.json"

// Exit is how PostgreSQL died: what the agent writes to ExitedFile and
// sends to its parent in an "exited" message.
type Exit struct {
	PostgresPID int       `json:"postgresPid"`
	Status      string    `json:"status"`           // "killed by SIGKILL" or "exit status 1"
	Signal      string    `json:"signal,omitempty"` // "SIGKILL", when a signal ended it
	ExitCode    int       `json:"exitCode"`         // -1 when a signal ended it
	Time        time.Time `json:"time"`
	Log         string    `json:"log"`     // the server log's path
	LogTail     []string  `json:"logTail"` // its last lines
}

// ExitedError is what CheckCluster returns once PostgreSQL has died.
type ExitedError struct{ Exit Exit }

// ErrServerExited matches an ExitedError with errors.Is.
var ErrServerExited = errors.New("the PostgreSQL server of this suite exited unexpectedly")

func (e *ExitedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, pid %d, at %s); the specs that follow cannot use it. ",
		ErrServerExited, e.Exit.Status, e.Exit.PostgresPID, e.Exit.Time.Local().Format("15:04:05.000"))
	b.WriteString("Look for the cause in its log (out of memory, a crash, or another process killing it), then rerun the suite")
	if len(e.Exit.LogTail) == 0 {
		fmt.Fprintf(&b, "; its log %s is empty", e.Exit.Log)
		return b.String()
	}
	fmt.Fprintf(&b, "; its log %s ends with:", e.Exit.Log)
	for _, l := range e.Exit.LogTail {
		b.WriteString("\n    ")
		b.WriteString(l)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrServerExited) true.
func (e *ExitedError) Is(target error) bool { return target == ErrServerExited }

// ErrHelperGone means the lifecycle helper that owned a cluster has ended:
// the cluster was stopped, or the helper was killed.
var ErrHelperGone = errors.New("the lifecycle helper of this suite's PostgreSQL server is gone")
