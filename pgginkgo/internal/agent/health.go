//go:build !windows

package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
)

// CheckCluster tells another process whether the cluster in dir still
// runs. It returns nil while it does, an *ExitedError once PostgreSQL has
// died on its own (the agent keeps dir until the suite ends), and an error
// wrapping ErrHelperGone when the agent that owned it has ended, whether it
// removed the directory or was killed.
//
// It costs a few system calls, so it can run before every spec: a stat
// that fails, then an open and a non-blocking flock(2) of dir/lock, which
// the agent holds exclusively for its whole life. Root and the agent's own
// account can both open that file read-only, and a shared lock needs no
// more.
func CheckCluster(dir string) error {
	if b, err := os.ReadFile(filepath.Join(dir, ExitedFile)); err == nil {
		var e Exit
		if err := json.Unmarshal(b, &e); err != nil {
			// The agent writes it by rename: a half-written file is not
			// possible, so this is someone else's file.
			return fmt.Errorf("%w; reading %s: %v", ErrServerExited, filepath.Join(dir, ExitedFile), err)
		}
		return &ExitedError{Exit: e}
	}
	held, err := flock.Held(filepath.Join(dir, "lock"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			return nil // not a cluster directory, or one being removed
		}
		return fmt.Errorf("%w: it stopped the server and removed %s. Did the suite end, or did the ginkgo CLI exit? The rest of the run cannot use the server", ErrHelperGone, dir)
	case err != nil, held:
		return nil // the agent holds it: alive; or we cannot tell, and the spec will find out
	default:
		return fmt.Errorf("%w: it was killed, and PostgreSQL with it; the next start removes %s. The rest of the run cannot use the server", ErrHelperGone, dir)
	}
}
