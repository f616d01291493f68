package suite_test

import (
	"os"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/examples/suite_test/shop"
)

// Env sets (or unsets) variables for one spec and puts back exactly what
// was there afterwards, pass or fail. Use it rather than os.Setenv: the
// environment is shared by the whole process, and pgginkgo keeps the PG*
// variables in it.
var _ = Describe("configuration", func() {
	It("reads the mode from APP_MODE, with debug logging off", decorators.Env(envscope.Set("APP_MODE", "test"), envscope.Unset("DEBUG")), func() {
		mode, debug := shop.Mode()
		Expect(mode).To(Equal("test"))
		Expect(debug).To(BeFalse())
	})

	It("turns debug logging on when DEBUG is set, even empty", decorators.Env(envscope.Set("DEBUG", "")), func() {
		_, debug := shop.Mode()
		Expect(debug).To(BeTrue())
	})

	It("runs in production when APP_MODE is unset", decorators.Env(envscope.Unset("APP_MODE")), func() {
		mode, _ := shop.Mode()
		Expect(mode).To(Equal("production"))
		// The cluster's variables are still there inside the scope.
		Expect(os.Getenv("PGHOST")).NotTo(BeEmpty())
	})
})
