package agent

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/image"
)

// ErrUnsupported is returned on Windows, where the lifecycle helper cannot
// yet watch its parent and own a postmaster.
var ErrUnsupported = errors.New("pgginkgo does not run clusters on Windows yet; run the suite on Linux or macOS (WSL works)")

// Process is the parent's end of a running agent.
type Process struct{}

// Spawn always fails on Windows.
func Spawn(ctx context.Context, cfg Config, acct *Account, logger *slog.Logger) (*Process, Message, error) {
	return nil, Message{}, ErrUnsupported
}

// Stop is a no-op on Windows.
func (p *Process) Stop(timeout time.Duration) error { return nil }

// Seal always fails on Windows.
func (p *Process) Seal(ctx context.Context, templates []image.Template) (Message, error) {
	return Message{}, ErrUnsupported
}

// CheckCluster has nothing to check on Windows, where no cluster runs.
func CheckCluster(dir string) error { return nil }
