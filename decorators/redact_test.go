package decorators_test

import (
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/format"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

var _ = Describe("a failed connection in an assertion", func() {
	It("is printed without the cluster's password", func(ctx SpecContext) {
		h := pgginkgo.Cluster()
		line, err := os.ReadFile(h.PassFile)
		Expect(err).NotTo(HaveOccurred())
		fields := strings.Split(strings.SplitN(string(line), "\n", 2)[0], ":")
		password := fields[len(fields)-1]
		Expect(password).To(HaveLen(len(password)), "the passfile holds a password")
		Expect(len(password)).To(BeNumerically(">=", 16))

		// A database that does not exist: the server rejects the
		// connection after authenticating with the password.
		_, err = pgx.Connect(ctx, h.URL("no_such_database"))
		Expect(err).To(HaveOccurred())
		shown := format.Object(err, 0)
		Expect(shown).To(ContainSubstring(`database "no_such_database" does not exist`))
		Expect(shown).NotTo(ContainSubstring(password))
	})
})
