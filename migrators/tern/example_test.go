package ternmigrator_test

import (
	"os"

	"github.com/pgginkgo/pgginkgo/decorators"
	ternmigrator "github.com/pgginkgo/pgginkgo/migrators/tern"
	"github.com/pgginkgo/pgginkgo/pgginkgo"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// A suite whose databases come from the application's tern migrations,
// with the template data and version table its tern.conf names. (Suite
// registers Ginkgo nodes, so this example only compiles.)
func ExampleNew() {
	var _ = pgginkgo.Suite(pgginkgo.DefineTemplate("default", ternmigrator.New(os.DirFS("migrations"),
		ternmigrator.Data(map[string]any{"app_role": "shop"}),
		ternmigrator.VersionTable("public.schema_version"))))

	var _ = Describe("signup", decorators.FreshDatabase(), func() {
		It("stores the user", func(ctx SpecContext) {
			_, err := pgginkgo.DB(ctx).Pool().Exec(ctx, `INSERT INTO users (email) VALUES ('a@b.c')`)
			Expect(err).NotTo(HaveOccurred())
		})
	})
}
