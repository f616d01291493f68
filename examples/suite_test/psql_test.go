package suite_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// psql runs `psql -XAtc sql` and returns what it printed. It passes no
// connection flags: pgginkgo.Suite exported PGHOST, PGPORT, PGUSER,
// PGDATABASE and PGPASSFILE, which is how any tool your code shells out to
// (pg_dump, a migration CLI, a script) finds the cluster. env overrides
// them for this command only, e.g. "PGDATABASE=" + a spec's database.
func psql(ctx context.Context, sql string, env ...string) string {
	GinkgoHelper()
	cmd := exec.CommandContext(ctx, psqlBinary(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "psql -c %q failed:\n%s", sql, out)
	return strings.TrimSpace(string(out))
}

// psqlBinary finds psql on PATH, else in Debian's versioned directories,
// where a server-only install puts it.
func psqlBinary() string {
	GinkgoHelper()
	if p, err := exec.LookPath("psql"); err == nil {
		return p
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
	if len(found) == 0 {
		Fail("psql not found on PATH or in /usr/lib/postgresql/*/bin; install the PostgreSQL client (apt-get install postgresql-client)")
	}
	return found[len(found)-1]
}
