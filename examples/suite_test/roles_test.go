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
//
// On an existing server (PGGINKGO_SERVER_URL) other runs share the
// cluster-wide namespace, so the role's name carries this run's ID; and a
// role that may only create databases cannot create roles at all.
var _ = Describe("a read-only reporting role", Serial, decorators.FreshDatabase(), func() {
	for _, table := range []string{"users", "orders"} {
		It(fmt.Sprintf("may read %s and nothing else", table), func(ctx SpecContext) {
			db := pgginkgo.DB(ctx)
			var mayCreateRoles bool
			Expect(db.Pool().QueryRow(ctx, "SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&mayCreateRoles)).To(Succeed())
			if !mayCreateRoles {
				Skip("the suite's role may not create roles (CREATEROLE)")
			}
			role := "reporting"
			if id := pgginkgo.Cluster().RunID; id != "" {
				role += "_" + id
			}
			_, err := db.Pool().Exec(ctx, fmt.Sprintf("CREATE ROLE %s; GRANT SELECT ON %s TO %[1]s", role, table))
			Expect(err).NotTo(HaveOccurred(), "the role a previous spec created is gone")

			var readable bool
			Expect(db.Pool().QueryRow(ctx, "SELECT has_table_privilege($2, $1, 'SELECT')", table, role).Scan(&readable)).To(Succeed())
			Expect(readable).To(BeTrue())
			Expect(db.Pool().QueryRow(ctx, "SELECT has_table_privilege($2, $1, 'INSERT')", table, role).Scan(&readable)).To(Succeed())
			Expect(readable).To(BeFalse())
		})
	}
})
