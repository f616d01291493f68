package suite_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// Roles live in the cluster, not in a spec's database, so recycling the
// database cannot undo them. pgginkgo removes the roles (and databases,
// tablespaces, ALTER SYSTEM settings) a spec created once it ends, so each
// of these specs can create the same role. They are Serial: under
// ginkgo -p, two specs creating one role at the same instant would still
// collide.
var _ = Describe("a read-only reporting role", Serial, decorators.FreshDatabase(), func() {
	for _, table := range []string{"users", "orders"} {
		It(fmt.Sprintf("may read %s and nothing else", table), func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			_, err := db.Pool().Exec(ctx, fmt.Sprintf("CREATE ROLE reporting; GRANT SELECT ON %s TO reporting", table))
			Expect(err).NotTo(HaveOccurred(), "the role a previous spec created is gone")

			var readable bool
			Expect(db.Pool().QueryRow(ctx, "SELECT has_table_privilege('reporting', $1, 'SELECT')", table).Scan(&readable)).To(Succeed())
			Expect(readable).To(BeTrue())
			Expect(db.Pool().QueryRow(ctx, "SELECT has_table_privilege('reporting', $1, 'INSERT')", table).Scan(&readable)).To(Succeed())
			Expect(readable).To(BeFalse())
		})
	}
})
