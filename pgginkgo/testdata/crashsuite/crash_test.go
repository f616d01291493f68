// Package crashsuite is a fixture: a suite that records its cluster and then
// hangs, so that a test can kill it with SIGKILL mid-run.
package crashsuite

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestCrash(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "crash fixture")
}

// CRASH_DSM sets dynamic_shared_memory_type, whose segments a killed
// postmaster leaves in /dev/shm when it is posix.
var _ = pgginkgo.Suite(func() []pgginkgo.SuiteOption {
	if t := os.Getenv("CRASH_DSM"); t != "" {
		return []pgginkgo.SuiteOption{pgginkgo.Setting("dynamic_shared_memory_type", t)}
	}
	return nil
}()...)

var _ = It("records the cluster and waits to be killed", func(ctx SpecContext) {
	data, err := json.Marshal(map[string]any{"handle": pgginkgo.Cluster(), "pid": os.Getpid()})
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(os.Getenv("CRASH_MARKER")+".tmp", data, 0o600)).To(Succeed())
	Expect(os.Rename(os.Getenv("CRASH_MARKER")+".tmp", os.Getenv("CRASH_MARKER"))).To(Succeed())
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Minute): // the test kills us long before this
	}
})
