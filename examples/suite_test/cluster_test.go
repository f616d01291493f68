package suite_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// The cluster itself, for code that needs a server rather than a database:
// pgginkgo.Cluster() is this process's Handle, the same on every process.
var _ = Describe("the suite's cluster", func() {
	It("serves pgx clients", func(ctx SpecContext) {
		pool, err := pgginkgo.Cluster().OpenPool(ctx, "") // "" is the maintenance database
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(pool.Close)

		var version int
		Expect(pool.QueryRow(ctx, "select current_setting('server_version_num')::int").Scan(&version)).To(Succeed())
		Expect(version).To(BeNumerically(">=", 120000))
	})

	It("serves database/sql clients", func(ctx SpecContext) {
		db, err := pgginkgo.Cluster().OpenSQLDB("")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(db.Close)

		var user string
		Expect(db.QueryRowContext(ctx, "select current_user").Scan(&user)).To(Succeed())
		Expect(user).To(Equal(pgginkgo.Cluster().User))
	})

	It("is what psql reaches through the PG* variables", func(ctx SpecContext) {
		h := pgginkgo.Cluster()
		Expect(psql(ctx, "select current_user || ' ' || inet_server_port()")).
			To(Equal(fmt.Sprintf("%s %d", h.User, h.Port)))
	})
})
