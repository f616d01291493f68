package gsql_test

import (
	"github.com/jackc/pgx/v5/pgxpool"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

var _ = Describe("HaveOpenConnections", func() {
	BeforeEach(func() {
		Eventually(pool).ShouldNot(gsql.HaveOpenConnections(), "connections of earlier specs close")
	})

	It("lists a leaked connection with its application, state and last query", func(ctx SpecContext) {
		c := openConn(ctx, "application_name=worker")
		_, err := c.Exec(ctx, "BEGIN; SELECT count(*) FROM jobs")
		Expect(err).NotTo(HaveOccurred())
		msg := InterceptGomegaFailure(func() { Expect(pool).NotTo(gsql.HaveOpenConnections()) }).Error()
		Expect(msg).To(ContainSubstring("but it has 1.\n"))
		Expect(msg).To(MatchRegexp(`pid +\| user +\| application_name +\| state +\| backend_start +\| query`))
		Expect(msg).To(MatchRegexp(`\| worker +\| idle in transaction \| .* \| BEGIN; SELECT count\(\*\) FROM jobs`))
	})

	It("passes once the leak is closed", func(ctx SpecContext) {
		c := openConn(ctx, "application_name=worker")
		Expect(pool).To(gsql.HaveOpenConnections())
		Expect(c.Close(ctx)).To(Succeed())
		Eventually(pool).ShouldNot(gsql.HaveOpenConnections())
	})

	It("does not count the checking pool's idle connections, but does count those checked out", func(ctx SpecContext) {
		other, err := pgxpool.New(ctx, server.url(dbName))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(other.Close)
		// The suite's pool is another client of the same database.
		suite, err := gsql.Connections(ctx, other)
		Expect(err).NotTo(HaveOccurred())
		// acquire checks out a connection that goes back to the pool at
		// the latest when the spec ends, since other.Close waits for it
		// (Release may be called twice).
		acquire := func() *pgxpool.Conn {
			c, err := other.Acquire(ctx)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(c.Release)
			return c
		}
		held := []*pgxpool.Conn{acquire(), acquire(), acquire()}
		held[0].Release()
		held[1].Release()
		Expect(other).To(gsql.HaveOpenConnections(gsql.IgnoringConnections(suite)), "one is checked out")
		held[2].Release()
		Expect(other).NotTo(gsql.HaveOpenConnections(gsql.IgnoringConnections(suite)), "one checking, two idle, none else")
		Expect(other.Stat().TotalConns()).To(BeNumerically("==", 3))

		leaked := acquire()
		conns, err := gsql.Connections(ctx, other)
		Expect(err).NotTo(HaveOccurred())
		Expect(conns).To(ContainElement(HaveField("PID", int(leaked.Conn().PgConn().PID()))))
		Expect(conns).To(HaveLen(len(suite) + 1))
	})

	It("does not count the idle connections of a *sql.DB either", func(ctx SpecContext) {
		db := openSQL("pgx")
		suite, err := gsql.Connections(ctx, db)
		Expect(err).NotTo(HaveOccurred())
		c1, err := db.Conn(ctx)
		Expect(err).NotTo(HaveOccurred())
		c2, err := db.Conn(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(c1.Close()).To(Succeed())
		Expect(db).To(gsql.HaveOpenConnections(gsql.IgnoringConnections(suite)), "c2 is checked out")
		Expect(c2.Close()).To(Succeed())
		Expect(db).NotTo(gsql.HaveOpenConnections(gsql.IgnoringConnections(suite)))
	})

	It("ignores what it is told to ignore", func(ctx SpecContext) {
		openConn(ctx, "application_name=pooler")
		before, err := gsql.Connections(ctx, pool)
		Expect(err).NotTo(HaveOccurred())
		Expect(before).To(ConsistOf(HaveField("ApplicationName", "pooler")))

		Expect(pool).NotTo(gsql.HaveOpenConnections(gsql.IgnoringApplication("pooler")))
		Expect(pool).NotTo(gsql.HaveOpenConnections(gsql.IgnoringConnections(before)))
		Expect(pool).NotTo(gsql.HaveOpenConnections(HaveField("State", "idle")))

		openConn(ctx, "application_name=newcomer")
		Expect(pool).To(gsql.HaveOpenConnections(gsql.IgnoringConnections(before)))
		msg := InterceptGomegaFailure(func() { Expect(pool).NotTo(gsql.HaveOpenConnections(gsql.IgnoringConnections(before))) }).Error()
		Expect(msg).To(ContainSubstring("but it has 1 (1 more ignored).\n"))
		Expect(msg).To(ContainSubstring("newcomer"))
		Expect(msg).NotTo(ContainSubstring("pooler"))
	})
})
