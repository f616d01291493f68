package bench_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	embeddedpostgres "github.com/fergusstrange/embedded-postgres"
	. "github.com/onsi/ginkgo/v2"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

const boots = 12

// Ours is Start through the warm initdb cache (the first boot, which may
// build the cache, is not counted); the baseline is embedded-postgres's own
// Start into a fresh data directory, which runs initdb every time. Both use
// the same binaries and the same filesystem for data.
var _ = Describe("cluster boot", Ordered, func() {
	It("measures both", func(ctx SpecContext) {
		warm, h, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv())
		expectOK(err)
		binRoot, source := warm.BinariesDir()
		expectOK(warm.Stop())

		var ours, baseline []time.Duration
		for range boots {
			began := time.Now()
			g, _, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv())
			took := time.Since(began)
			expectOK(err)
			ours = append(ours, took)
			expectOK(g.Stop())
		}

		root := filepath.Dir(filepath.Dir(warm.DataDir())) // the runtime dir ours used
		for i := range boots {
			dir, err := os.MkdirTemp(root, "baseline-")
			expectOK(err)
			port := freePort()
			var log bytes.Buffer
			cfg := embeddedpostgres.DefaultConfig().
				Version(embeddedpostgres.PostgresVersion(h.Version)).
				BinariesPath(binRoot).
				RuntimePath(filepath.Join(dir, "run")).
				DataPath(filepath.Join(dir, "data")).
				CachePath(filepath.Join(dir, "cache")).
				Port(uint32(port)).
				StartParameters(map[string]string{"unix_socket_directories": dir, "listen_addresses": "localhost", "fsync": "off"}).
				Logger(&log)
			ep := embeddedpostgres.NewDatabase(cfg)
			began := time.Now()
			err = ep.Start()
			took := time.Since(began)
			if err != nil {
				Fail(fmt.Sprintf("baseline boot %d: %v\n%s", i, err, log.String()))
			}
			baseline = append(baseline, took)
			expectOK(ep.Stop())
			os.RemoveAll(dir)
		}
		results = append(results,
			ratioLine("cluster-boot p50", percentile(ours, 0.5), percentile(baseline, 0.5)),
			fmt.Sprintf("cluster-boot runs: %d each; data under %s; binaries %s (%s)", boots, root, binRoot, source))
	})
})

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	expectOK(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
