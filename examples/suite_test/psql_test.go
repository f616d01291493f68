package suite_test

import (
	"context"
	"os/exec"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// psql runs `psql -XAtc sql` and returns what it printed. It passes no
// connection flags: pgginkgo.Suite exported PGHOST, PGPORT, PGUSER,
// PGDATABASE and PGPASSFILE, and FreshDatabase points PGDATABASE at the
// spec's database, which is how any tool your code shells out to (pg_dump,
// a migration CLI, a script) finds it. The psql is the one that suits the
// cluster's server, as Handle.ClientTool picks it.
func psql(ctx context.Context, sql string) string {
	GinkgoHelper()
	bin, err := pgginkgo.Cluster().ClientTool(ctx, "psql")
	Expect(err).NotTo(HaveOccurred())
	out, err := exec.CommandContext(ctx, bin, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "psql -c %q failed:\n%s", sql, out)
	return strings.TrimSpace(string(out))
}
