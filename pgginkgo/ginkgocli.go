package pgginkgo

import (
	"os"

	"github.com/onsi/ginkgo/v2/types"
)

// ginkgoCLIPID returns the PID of the ginkgo CLI when this test process
// runs under it, and 0 otherwise: under plain `go test` there is no CLI to
// watch, and the go command's own process must not be mistaken for one.
//
// The CLI runs the compiled suite as its direct child
// (ginkgo/internal/run.go, buildAndStartCommand), and when it is killed
// alone, its test processes notice only a minute later (under -p, when
// their calls to the CLI's parallel server fail), so process 1 asks the
// lifecycle helper to watch it. Two traces tell that the CLI started us:
//
//   - under -p, the CLI hands every process the address of its server
//     (SuiteConfig.ParallelHost, --ginkgo.parallel.host);
//   - serial or parallel, the CLI puts "--test.timeout=0" first on the
//     command line (runSerial and runParallel), whereas the go command
//     writes its flags with one dash (-test.timeout=10m0s,
//     -test.paniconexit0).
func ginkgoCLIPID(suiteCfg types.SuiteConfig) int {
	underCLI := suiteCfg.ParallelHost != "" || (len(os.Args) > 1 && os.Args[1] == "--test.timeout=0")
	if !underCLI {
		return 0
	}
	if ppid := os.Getppid(); ppid > 1 {
		return ppid
	}
	return 0 // already orphaned: nothing left to watch
}
