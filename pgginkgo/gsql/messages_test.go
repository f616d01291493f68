package gsql_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

// These specs print real failure messages, so that documentation can quote
// them as they are; run with -v (or ginkgo -v) to see them.
var _ = Describe("failure messages as a reader sees them", func() {
	show := func(title string, assertion func()) {
		GinkgoHelper()
		err := InterceptGomegaFailure(assertion)
		Expect(err).To(HaveOccurred())
		GinkgoWriter.Printf("----- %s -----\n%s\n", title, err.Error())
	}

	It("HaveRow", func() {
		show("HaveRow", func() {
			Expect(pool).To(gsql.HaveRow("jobs", gsql.Columns{
				"queue":    "sms",
				"state":    "done",
				"attempts": BeNumerically("<", 3),
			}))
		})
	})

	It("HaveRowCount", func() {
		show("HaveRowCount", func() {
			Expect(pool).To(gsql.HaveRowCount("numbers", 20))
		})
	})

	It("HaveRows", func() {
		show("HaveRows", func() {
			Expect(pool).To(gsql.HaveRows("SELECT id, queue, state FROM jobs WHERE queue = $1 ORDER BY id", "mail").
				That(ContainElement(HaveKeyWithValue("state", "failed"))))
		})
	})
})
