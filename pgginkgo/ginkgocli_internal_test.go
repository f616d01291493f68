package pgginkgo

import (
	"os"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func TestGinkgoCLIPIDOnlyUnderTheCLI(t *testing.T) {
	saved := os.Args
	defer func() { os.Args = saved }()
	cases := []struct {
		name  string
		args  []string
		host  string
		watch bool
	}{
		// What the go command runs: flags with one dash.
		{name: "go test", args: []string{"x.test", "-test.paniconexit0", "-test.timeout=10m0s"}},
		{name: "the binary run by hand", args: []string{"x.test", "-ginkgo.focus=a"}},
		// What ginkgo/internal/run.go runs.
		{name: "serial ginkgo", args: []string{"x.test", "--test.timeout=0", "--ginkgo.seed=1"}, watch: true},
		{name: "ginkgo -p", args: []string{"x.test", "--test.timeout=0", "--ginkgo.parallel.process=2"}, host: "http://127.0.0.1:4242", watch: true},
	}
	for _, c := range cases {
		os.Args = c.args
		got := ginkgoCLIPID(types.SuiteConfig{ParallelHost: c.host})
		if want := map[bool]int{true: os.Getppid(), false: 0}[c.watch]; got != want {
			t.Errorf("%s: ginkgoCLIPID = %d, want %d", c.name, got, want)
		}
	}
}
