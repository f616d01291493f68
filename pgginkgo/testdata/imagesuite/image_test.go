// Package imagesuite is a fixture: a suite on a template of its own, run by
// the core's image tests as a separate test binary under the ginkgo CLI.
//
// It is steered by environment variables:
//   - IMAGE_MIGRATIONS: the migrations directory (default ./migrations);
//   - IMAGE_LOG: a file the core's log is appended to, at info level;
//   - IMAGE_DUMP: a file the first spec writes pg_dump's schema and data of
//     its database to;
//   - IMAGE_FIRST: a file each process writes the databases that exist
//     before its first spec to, one line per process, and IMAGE_FIRST.got
//     the database its first spec got;
//   - IMAGE_HANG: a file the migration writes the data directory to before
//     it hangs, so that a test can kill the build in mid-migration.
package imagesuite

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestImage(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "image fixture")
}

func migrationsDir() string {
	if d := os.Getenv("IMAGE_MIGRATIONS"); d != "" {
		return d
	}
	return "migrations"
}

func logger() *slog.Logger {
	path := os.Getenv("IMAGE_LOG")
	if path == "" {
		return slog.New(slog.NewTextHandler(GinkgoWriter, nil))
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		panic(err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// hang is a migration step that, when IMAGE_HANG is set, reports the data
// directory and then waits to be killed. Its version is constant, so the
// image key does not depend on whether it hangs.
func hang(ctx context.Context, conn *pgx.Conn) error {
	path := os.Getenv("IMAGE_HANG")
	if path == "" {
		return nil
	}
	var dataDir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
		return err
	}
	if err := os.WriteFile(path+".tmp", []byte(dataDir), 0o666); err != nil {
		return err
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Minute):
	}
	return fmt.Errorf("the hanging migration was not killed")
}

var _ = pgginkgo.Suite(
	pgginkgo.DefineTemplate("default", pgginkgo.SQLDir(os.DirFS(migrationsDir())), pgginkgo.MigrateFunc("hang-v1", hang)),
	pgginkgo.Logger(logger()),
)

var first, firstReport = true, true

// A reporting node runs before any node of the spec, and so before
// FreshDatabase hands the spec its database: what it sees is what this
// process did before its first spec.
var _ = ReportBeforeEach(func(ctx SpecContext, _ SpecReport) {
	if !firstReport {
		return
	}
	firstReport = false
	if path := os.Getenv("IMAGE_FIRST"); path != "" {
		recordDatabases(ctx, path)
	}
})

var _ = Describe("an image-booted suite", decorators.FreshDatabase(), func() {
	BeforeEach(func(ctx SpecContext) {
		if !first {
			return
		}
		first = false
		if path := os.Getenv("IMAGE_FIRST"); path != "" {
			appendLine(path+".got", fmt.Sprintf("process %d: %s\n", GinkgoParallelProcess(), pgginkgo.DB(ctx).Name()))
		}
		if path := os.Getenv("IMAGE_DUMP"); path != "" && GinkgoParallelProcess() == 1 {
			dump(ctx, path)
		}
	})

	for i := range 6 {
		It(fmt.Sprintf("gets a migrated, seeded database %d", i), func(ctx SpecContext) {
			db := pgginkgo.DB(ctx).Pool()
			var accounts, invoices int
			Expect(db.QueryRow(ctx, "SELECT count(*) FROM accounts").Scan(&accounts)).To(Succeed())
			Expect(db.QueryRow(ctx, "SELECT count(*) FROM invoices").Scan(&invoices)).To(Succeed())
			Expect([]int{accounts, invoices}).To(Equal([]int{2, 25}))
			_, err := db.Exec(ctx, "INSERT INTO accounts (email) VALUES ($1)", fmt.Sprintf("spec%d@example.com", i))
			Expect(err).NotTo(HaveOccurred())
		})
	}
})

// recordDatabases writes "process N: db1 db2 …" with the databases that
// exist when this process's first spec starts.
func recordDatabases(ctx context.Context, path string) {
	conn, err := pgx.Connect(ctx, pgginkgo.Cluster().URL("postgres"))
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database ORDER BY datname")
	Expect(err).NotTo(HaveOccurred())
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	Expect(err).NotTo(HaveOccurred())
	appendLine(path, fmt.Sprintf("process %d: %s\n", GinkgoParallelProcess(), strings.Join(names, " ")))
}

func appendLine(path, line string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	_, err = f.WriteString(line)
	Expect(err).NotTo(HaveOccurred())
}

// dump writes the schema and every row of the spec's database, as pg_dump
// sees them.
func dump(ctx context.Context, path string) {
	pgDump, err := pgginkgo.Cluster().ClientTool(ctx, "pg_dump")
	Expect(err).NotTo(HaveOccurred())
	db := pgginkgo.DB(ctx)
	var out []string
	for _, mode := range []string{"--schema-only", "--data-only"} {
		cmd := exec.CommandContext(ctx, pgDump, mode, "--no-owner", "--dbname", db.URL())
		b, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(b))
		out = append(out, string(b))
	}
	// Keep what describes the schema and the data: pg_dump's header names
	// versions, and newer ones guard the script with a random \restrict key.
	lines := slices.DeleteFunc(strings.Split(strings.Join(out, "\n"), "\n"), func(l string) bool {
		return strings.HasPrefix(l, "-- Dumped") || strings.HasPrefix(l, `\restrict `) || strings.HasPrefix(l, `\unrestrict `)
	})
	Expect(os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o666)).To(Succeed())
}
