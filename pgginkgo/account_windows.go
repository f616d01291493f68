package pgginkgo

import (
	"os"
	"path/filepath"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/agent"
)

func account(cfg *config) (*agent.Account, error) { return nil, agent.ErrUnsupported }

func accessibleBy(binDir string, acct *agent.Account) error { return nil }

func prepareCacheDir(dir string, acct *agent.Account) (string, error) {
	return filepath.Join(dir, "u"), os.MkdirAll(dir, 0o755)
}
