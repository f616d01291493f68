//go:build !windows

package pgginkgo_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/extserver"
)

// The passwords of the stand-in server's roles: distinctive, so that a
// grep for them in what pgginkgo prints finds nothing but a leak.
const (
	appPassword   = "app-Pw-9f3kQ7zX"
	plainPassword = "plain-Pw-2mV8wLr"
)

// startExternal starts the stand-in for an existing server (a second,
// independent PostgreSQL with the installed binaries, as nobody, on
// tmpfs) with a CREATEDB-only role "app" and a role "plain" that may not
// create databases.
func startExternal(ctx context.Context, settings map[string]string) *extserver.Server {
	GinkgoHelper()
	srv, err := extserver.Start(ctx, extserver.Options{Settings: settings})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Stop)
	Expect(srv.CreateRole(ctx, "app", appPassword, "CREATEDB")).To(Succeed())
	Expect(srv.CreateRole(ctx, "plain", plainPassword, "")).To(Succeed())
	return srv
}

// superConn is a superuser connection to the stand-in's postgres database.
func superConn(ctx context.Context, srv *extserver.Server) *pgx.Conn {
	GinkgoHelper()
	conn, err := pgx.Connect(ctx, srv.SuperURL())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// databasesLike lists the databases whose names match a LIKE pattern.
func databasesLike(ctx context.Context, conn *pgx.Conn, pattern string) []string {
	GinkgoHelper()
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1`, pattern)
	Expect(err).NotTo(HaveOccurred())
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	Expect(err).NotTo(HaveOccurred())
	return names
}

func quietStart(ctx context.Context, opts ...pgginkgo.ClusterOption) (*pgginkgo.Guard, *pgginkgo.Handle, *syncBuffer, error) {
	log, buf := debugLogger()
	g, h, err := pgginkgo.Start(ctx, append([]pgginkgo.ClusterOption{pgginkgo.WithoutEnv(), pgginkgo.Logger(log)}, opts...)...)
	return g, h, buf, err
}

var _ = Describe("Start on an existing server", Ordered, Label("external"), func() {
	var srv *extserver.Server
	BeforeAll(func(ctx SpecContext) { srv = startExternal(ctx, nil) })

	It("starts nothing, hands out a handle without the password, and ends the run's lease at Stop", func(ctx SpecContext) {
		user, password := srv.SuperUser()
		g, h, logs, err := quietStart(ctx, pgginkgo.Server(srv.SuperURL()))
		Expect(err).NotTo(HaveOccurred())
		Expect(h.External).To(BeTrue())
		Expect(h.CloneOnly).To(BeFalse(), "a superuser recycles")
		Expect(h.User).To(Equal(user))
		Expect(h.Port).To(Equal(srv.Port()))
		Expect(h.RunID).To(MatchRegexp(`^[a-z0-9]{1,12}_%d_[a-z0-9]{6}$`, os.Getpid()))
		Expect(g.PostgresPID()).To(BeZero(), "no cluster was started")

		data, err := h.Encode()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).NotTo(ContainSubstring(password))
		Expect(h.URL("x")).NotTo(ContainSubstring(password))
		st, err := os.Stat(h.PassFile)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Mode().Perm()).To(Equal(os.FileMode(0o600)))
		Expect(h.Env).To(HaveKeyWithValue("PGPASSFILE", h.PassFile))
		Expect(h.Env).To(HaveKeyWithValue("PGSSLMODE", "disable"))
		Expect(h.Env).NotTo(HaveKey("PGPASSWORD"))

		// The handle works by itself, with the passfile alone, even with a
		// wrong PGPASSWORD in the environment, which libpq would prefer.
		GinkgoT().Setenv("PGPASSWORD", "not-the-password")
		pool, err := h.OpenPool(ctx, "")
		Expect(err).NotTo(HaveOccurred())
		var who string
		Expect(pool.QueryRow(ctx, "SELECT current_user").Scan(&who)).To(Succeed())
		pool.Close()
		Expect(who).To(Equal(user))

		conn := superConn(ctx, srv)
		var leases int
		lease := "pgginkgo lease " + h.RunID + " %"
		Expect(conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1`, lease).Scan(&leases)).To(Succeed())
		Expect(leases).To(Equal(1), "the run holds one lease session")

		Expect(g.Stop()).To(Succeed())
		Eventually(func() int {
			Expect(conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1`, lease).Scan(&leases)).To(Succeed())
			return leases
		}).Should(BeZero())
		Expect(filepath.Dir(h.PassFile)).NotTo(BeADirectory(), "Stop removes the run's passfile")
		Expect(logs.String()).NotTo(ContainSubstring(password))
	})

	It("removes the directory, and passfile, of a run killed on this machine", func(ctx SpecContext) {
		dead := exec.Command("true")
		Expect(dead.Run()).To(Succeed())
		runDir := func(pid int) string {
			dir, err := os.MkdirTemp("", "pgginkgo-run-")
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(filepath.Join(dir, "pgpass"), []byte("x:1:*:u:secret\n"), 0o600)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(pid)), 0o600)).To(Succeed())
			DeferCleanup(os.RemoveAll, dir)
			return dir
		}
		killed, live := runDir(dead.Process.Pid), runDir(os.Getpid())
		g, _, _, err := quietStart(ctx, pgginkgo.Server(srv.SuperURL()))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(g.Stop)
		Expect(killed).NotTo(BeADirectory(), "its process 1 is gone")
		Expect(live).To(BeADirectory(), "its process 1 lives")
	})

	It("runs a CREATEDB-only role in clone mode, and says so", func(ctx SpecContext) {
		g, h, logs, err := quietStart(ctx, pgginkgo.Server(srv.URL("app", appPassword, "postgres")), pgginkgo.Setting("work_mem", "8MB"), pgginkgo.Port(5999))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(g.Stop)
		Expect(h.CloneOnly).To(BeTrue())
		Expect(logs.String()).To(ContainSubstring(`msg="options that shape a cluster of pgginkgo's own do nothing on an existing server" component=pgginkgo ignored="Port, Setting"`))
		Expect(logs.String()).To(ContainSubstring(`msg="clone mode: the role is not a superuser`))
		Expect(logs.String()).NotTo(ContainSubstring(appPassword))
	})

	It("honours the URL's parameters and hands them to libpq clients", func(ctx SpecContext) {
		u := srv.SuperURL() + "&connect_timeout=7&application_name=mine"
		g, h, _, err := quietStart(ctx, pgginkgo.Server(u))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(g.Stop)
		Expect(h.Env).To(HaveKeyWithValue("PGCONNECT_TIMEOUT", "7"))
		Expect(h.URL("")).To(ContainSubstring("connect_timeout=7"))
		cc, err := h.ConnConfig("")
		Expect(err).NotTo(HaveOccurred())
		Expect(cc.ConnectTimeout).To(Equal(7 * time.Second))
	})

	DescribeTable("refuses what it cannot use, saying how to fix it", func(ctx SpecContext, target func() string, want ...string) {
		_, _, logs, err := quietStart(ctx, pgginkgo.Server(target()))
		Expect(err).To(HaveOccurred())
		for _, w := range want {
			Expect(err.Error()).To(ContainSubstring(w))
		}
		_, super := srv.SuperUser()
		for _, secret := range []string{super, appPassword, plainPassword, "wrong-Pw-77xq"} {
			Expect(err.Error()).NotTo(ContainSubstring(secret))
			Expect(logs.String()).NotTo(ContainSubstring(secret))
		}
	},
		Entry("an unreachable server", func() string { return "postgres://app:" + appPassword + "@127.0.0.1:1/postgres?sslmode=disable" },
			"pgginkgo: cannot reach the server at 127.0.0.1:1:", "connection refused",
			"check the host and port in the server URL (PGGINKGO_SERVER_URL or pgginkgo.Server), and that the server accepts TCP connections from this machine"),
		Entry("a wrong password", func() string { return srv.URL("app", "wrong-Pw-77xq", "postgres") },
			"pgginkgo: the server at postgres://app@127.0.0.1:",
			`/postgres?sslmode=disable refused the password of role "app" (from the URL): password authentication failed for user "app"; fix the password in the server URL (PGGINKGO_SERVER_URL or pgginkgo.Server), PGPASSWORD or the passfile`),
		Entry("a role that may not create databases", func() string { return srv.URL("plain", plainPassword, "postgres") },
			`pgginkgo: role "plain" may not create databases on postgres://plain@127.0.0.1:`,
			`and pgginkgo creates one per spec: grant it with ALTER ROLE "plain" CREATEDB (pgginkgo then clones a database per spec), or connect as a superuser (which also lets pgginkgo recycle them)`),
		Entry("a maintenance database that does not exist", func() string { return srv.URL("app", appPassword, "nosuchdb") },
			`database "nosuchdb" does not exist; name an existing database in the URL (pgginkgo uses it as its maintenance database, e.g. postgres)`),
		Entry("not a postgres URL", func() string { return "mysql://app:" + appPassword + "@127.0.0.1/x" },
			"pgginkgo: the server URL is not a postgres:// URL; write it as postgres://user@host:port/database?sslmode=require"),
		Entry("several hosts", func() string { return "postgres://app:" + appPassword + "@127.0.0.1:1,127.0.0.1:2/postgres" },
			"pgginkgo: the server URL postgres://app@127.0.0.1:1,127.0.0.1:2/postgres names several hosts; name the one server the run should use"),
	)

	It("refuses a server older than 13", func(ctx SpecContext) {
		// No PostgreSQL older than 13 can be installed here: a stand-in that
		// speaks the protocol and reports 12.22, as a PostgreSQL 12 does.
		addr, stop, err := extserver.StartFake("12.22")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(stop)
		_, _, _, err = quietStart(ctx, pgginkgo.Server("postgres://app@"+addr+"/postgres?sslmode=disable"))
		Expect(err).To(MatchError(fmt.Sprintf("pgginkgo: the server at postgres://app@%s/postgres?sslmode=disable is PostgreSQL 12.22; pgginkgo needs PostgreSQL 13 or newer: upgrade the server, or point the server URL (PGGINKGO_SERVER_URL or pgginkgo.Server) at a newer one", addr)))
	})

	It("refuses bad retention", func(ctx SpecContext) {
		_, _, _, err := quietStart(ctx, pgginkgo.Server(srv.SuperURL()), pgginkgo.ServerRetention(0, time.Hour))
		Expect(err).To(MatchError(ContainSubstring("ServerRetention(0s, 1h0m0s): both must be positive")))
	})

	It("reads the password from PGPASSWORD and from a passfile, as libpq does", func(ctx SpecContext) {
		bare := fmt.Sprintf("postgres://app@127.0.0.1:%d/postgres?sslmode=disable", srv.Port())
		GinkgoT().Setenv("PGPASSWORD", appPassword)
		g, _, _, err := quietStart(ctx, pgginkgo.Server(bare))
		Expect(err).NotTo(HaveOccurred())
		Expect(g.Stop()).To(Succeed())

		GinkgoT().Setenv("PGPASSWORD", "")
		Expect(os.Unsetenv("PGPASSWORD")).To(Succeed())
		pass := filepath.Join(GinkgoT().TempDir(), "pgpass")
		Expect(os.WriteFile(pass, []byte(fmt.Sprintf("127.0.0.1:%d:*:app:%s\n", srv.Port(), appPassword)), 0o600)).To(Succeed())
		GinkgoT().Setenv("PGPASSFILE", pass)
		g, h, _, err := quietStart(ctx, pgginkgo.Server(bare))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(g.Stop)
		Expect(h.PassFile).NotTo(Equal(pass), "the run writes a passfile of its own")

		GinkgoT().Setenv("PGPASSFILE", filepath.Join(GinkgoT().TempDir(), "none"))
		_, _, _, err = quietStart(ctx, pgginkgo.Server(bare))
		Expect(err).To(MatchError(ContainSubstring(`refused the password of role "app" (none was given)`)))
	})
})
