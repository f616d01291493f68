// Package diesuite is a fixture: a suite of specs on fresh databases whose
// first spec records the cluster and then waits at a gate, so that a test
// can kill the postmaster, or the ginkgo CLI, while the specs run.
package diesuite

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestDie(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "die fixture")
}

var _ = pgginkgo.Suite()

// waitForGate returns once the test has written DIE_MARKER.gate, which it
// does after it killed the postmaster; a test that never writes it kills
// the run.
//
// Before it waits, it records that this process is at the gate, as
// DIE_MARKER.at.<pid>, so that the test kills only once every process
// holds a database.
func waitForGate(ctx SpecContext) {
	_ = os.WriteFile(fmt.Sprintf("%s.at.%d", os.Getenv("DIE_MARKER"), os.Getpid()), nil, 0o600)
	for {
		if _, err := os.Stat(os.Getenv("DIE_MARKER") + ".gate"); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

var _ = Describe("specs on fresh databases", decorators.FreshDatabase(), func() {
	It("records the cluster and waits at the gate", func(ctx SpecContext) {
		data, err := json.Marshal(map[string]any{"handle": pgginkgo.Cluster(), "pid": os.Getpid()})
		Expect(err).NotTo(HaveOccurred())
		marker := os.Getenv("DIE_MARKER")
		Expect(os.WriteFile(marker+".tmp", data, 0o600)).To(Succeed())
		Expect(os.Rename(marker+".tmp", marker)).To(Succeed())
		waitForGate(ctx)
	}, SpecTimeout(2*time.Minute))

	for i := range 10 {
		It(fmt.Sprintf("uses its database %d", i), func(ctx SpecContext) {
			waitForGate(ctx)
			Expect(pgginkgo.DB(ctx).Pool().Ping(ctx)).To(Succeed())
		}, SpecTimeout(2*time.Minute))
	}
})
