package pgginkgo_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

var _ = Describe("Start", func() {
	var (
		guard  *pgginkgo.Guard
		handle *pgginkgo.Handle
		logs   *syncBuffer
	)

	BeforeEach(func(ctx SpecContext) {
		var log = debugLogger
		logger, buf := log()
		logs = buf
		var err error
		guard, handle, err = pgginkgo.Start(ctx, pgginkgo.Logger(logger))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(guard.Stop()).To(Succeed()) })
	})

	It("serves queries over TCP with the password from the passfile", func(ctx SpecContext) {
		pool, err := handle.OpenPool(ctx, "postgres")
		Expect(err).NotTo(HaveOccurred())
		defer pool.Close()
		var user, addr string
		Expect(pool.QueryRow(ctx, "select current_user, inet_server_addr()::text").Scan(&user, &addr)).To(Succeed())
		Expect(user).To(Equal("postgres"))
		Expect(addr).To(Equal("127.0.0.1/32"))

		db, err := handle.OpenSQLDB("postgres")
		Expect(err).NotTo(HaveOccurred())
		defer db.Close()
		var n int
		Expect(db.QueryRowContext(ctx, "select 41 + 1").Scan(&n)).To(Succeed())
		Expect(n).To(Equal(42))
	})

	It("uses the tuned defaults", func(ctx SpecContext) {
		pool, err := handle.OpenPool(ctx, "postgres")
		Expect(err).NotTo(HaveOccurred())
		defer pool.Close()
		settings := map[string]string{}
		rows, err := pool.Query(ctx, `select name, setting from pg_settings where name in
			('fsync','synchronous_commit','full_page_writes','shared_buffers','max_connections','listen_addresses','password_encryption')`)
		Expect(err).NotTo(HaveOccurred())
		for rows.Next() {
			var k, v string
			Expect(rows.Scan(&k, &v)).To(Succeed())
			settings[k] = v
		}
		Expect(rows.Err()).NotTo(HaveOccurred())
		Expect(settings).To(Equal(map[string]string{
			"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
			"shared_buffers": "4096", "max_connections": "200", "listen_addresses": "127.0.0.1",
			"password_encryption": "scram-sha-256",
		}))
	})

	It("runs postgres as an unprivileged account and keeps the caller's uid", func() {
		pid := postmasterPIDOf(guard.DataDir())
		Expect(pid).To(Equal(guard.PostgresPID()))
		Expect(procAlive(pid)).To(BeTrue())
		if os.Geteuid() == 0 {
			Expect(procUID(pid)).To(Equal(65534), "postgres must run as nobody when the test is root")
			Expect(procUID(guard.HelperPID())).To(Equal(65534))
		} else {
			Expect(procUID(pid)).To(Equal(os.Geteuid()))
		}
		Expect(os.Geteuid()).To(Equal(procUID(os.Getpid())))
		for _, dir := range []string{guard.Dir(), guard.DataDir(), handle.SocketDir} {
			uid, mode := ownerOf(dir)
			Expect(uid).To(Equal(procUID(pid)), dir)
			Expect(mode).To(Equal(os.FileMode(0o700)), dir)
		}
		uid, mode := ownerOf(handle.PassFile)
		Expect(uid).To(Equal(os.Geteuid()))
		Expect(mode).To(Equal(os.FileMode(0o600)))
	})

	It("points PG* variables at the cluster so psql works without flags", func(ctx SpecContext) {
		Expect(os.Getenv("PGHOST")).To(Equal("127.0.0.1"))
		Expect(os.Getenv("PGPORT")).To(Equal(handle.Env["PGPORT"]))
		Expect(os.Getenv("PGPASSFILE")).To(Equal(handle.PassFile))
		psql, err := handle.ClientTool(ctx, "psql")
		Expect(err).NotTo(HaveOccurred())
		out, err := exec.CommandContext(ctx, psql, "-XAtc", "select current_database() || ':' || current_user").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(strings.TrimSpace(string(out))).To(Equal("postgres:postgres"))
	})

	It("never shows the password in logs, errors, String or URL", func() {
		b, err := os.ReadFile(handle.PassFile)
		Expect(err).NotTo(HaveOccurred())
		password := strings.Split(strings.Split(string(b), "\n")[0], ":")[4]
		Expect(password).To(HaveLen(48))
		enc, err := handle.Encode()
		Expect(err).NotTo(HaveOccurred())
		for _, s := range []string{handle.String(), guard.String(), handle.URL("x"), string(enc), logs.String()} {
			Expect(s).NotTo(ContainSubstring(password))
		}
		Expect(logs.String()).To(ContainSubstring("password=[redacted]"))
		serverLog, err := os.ReadFile(filepath.Join(guard.Dir(), "postgres.log"))
		if err == nil { // readable when the test runs as the cluster's account or root
			Expect(string(serverLog)).NotTo(ContainSubstring(password))
		}
	})

	It("logs each step with its timing", func() {
		for _, step := range []string{"binaries resolved", "initdb cache ready", "postgres ready", "cluster ready"} {
			Expect(logs.String()).To(MatchRegexp(`msg="?%s"?.*took=|msg="?%s"?.*total=`, step, step))
		}
	})

	It("stops idempotently, removing processes, directories and env", func() {
		pid, dir := guard.PostgresPID(), guard.Dir()
		Expect(guard.Stop()).To(Succeed())
		Expect(guard.Stop()).To(Succeed())
		Expect(procAlive(pid)).To(BeFalse())
		Expect(dir).NotTo(BeADirectory())
		_, set := os.LookupEnv("PGPASSFILE")
		Expect(set).To(BeFalse())
	})
})

var _ = Describe("Start with settings", func() {
	It("lets the user override any default", func(ctx SpecContext) {
		guard, handle, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv(),
			pgginkgo.Setting("shared_buffers", "16MB"), pgginkgo.Setting("fsync", "on"),
			pgginkgo.Setting("application_name", "custom"))
		Expect(err).NotTo(HaveOccurred())
		defer guard.Stop()
		_, set := os.LookupEnv("PGPORT")
		Expect(set).To(BeFalse(), "WithoutEnv must not export PG* variables")
		pool, err := handle.OpenPool(ctx, "")
		Expect(err).NotTo(HaveOccurred())
		defer pool.Close()
		var sb, fsync string
		Expect(pool.QueryRow(ctx, "select current_setting('shared_buffers'), current_setting('fsync')").Scan(&sb, &fsync)).To(Succeed())
		Expect([]string{sb, fsync}).To(Equal([]string{"16MB", "on"}))
	})

	It("boots many clusters side by side on distinct ports and directories", func(ctx SpecContext) {
		type result struct {
			g *pgginkgo.Guard
			h *pgginkgo.Handle
			e error
		}
		results := make(chan result, 4)
		for range 4 {
			go func() {
				g, h, err := pgginkgo.Start(context.WithoutCancel(ctx), pgginkgo.WithoutEnv())
				results <- result{g, h, err}
			}()
		}
		ports, dirs := map[int]bool{}, map[string]bool{}
		for range 4 {
			r := <-results
			Expect(r.e).NotTo(HaveOccurred())
			DeferCleanup(r.g.Stop)
			ports[r.h.Port], dirs[r.g.Dir()] = true, true
		}
		Expect(ports).To(HaveLen(4))
		Expect(dirs).To(HaveLen(4))
	}, SpecTimeout(2*time.Minute))

	It("builds a cold initdb cache once when suites start together", func(ctx SpecContext) {
		cache, err := os.MkdirTemp("", "pgginkgo-cold-cache-")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(os.RemoveAll, cache)
		Expect(os.Chmod(cache, 0o755)).To(Succeed()) // the postgres account must enter it
		logger, logs := debugLogger()
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				g, _, err := pgginkgo.Start(context.WithoutCancel(ctx), pgginkgo.WithoutEnv(), pgginkgo.CacheDir(cache), pgginkgo.Logger(logger))
				if err == nil {
					err = g.Stop()
				}
				errs <- err
			}()
		}
		for range 4 {
			Expect(<-errs).To(Succeed())
		}
		Expect(strings.Count(logs.String(), "msg=\"initdb cache built\"")).To(Equal(1), logs.String())
		Expect(strings.Count(logs.String(), "msg=\"initdb cache ready\"")).To(Equal(4))
	}, SpecTimeout(3*time.Minute))
})
