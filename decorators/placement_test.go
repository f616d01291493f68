package decorators_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
)

// The placements of FreshDatabase that are mistakes, run in the fixture's
// "placement" mode (testdata/fixture/placement_test.go), as the user sees
// them: which node fails, and the message that says where the decorator
// goes. The placements that work are in fresh_test.go and env_test.go.
var _ = Describe("FreshDatabase in the wrong place", Serial, Ordered, func() {
	var run *fixtureRun
	var at func(line int) string
	BeforeAll(func(ctx SpecContext) {
		run = runFixture(ctx, "placement", 1)
		file, err := filepath.Abs(filepath.Join(fixtureDir, "placement_test.go"))
		Expect(err).NotTo(HaveOccurred())
		at = func(line int) string { return fmt.Sprintf("%s:%d", file, line) }
	}, NodeTimeout(3*time.Minute))

	failure := func(text string) types.Failure {
		GinkgoHelper()
		s := run.spec(text)
		Expect(s.State).To(Equal(types.SpecStateFailed), text)
		return s.Failure
	}

	// Written on their containers' lines, nested decorators stop the run
	// while Ginkgo builds the tree, before any cluster starts or spec runs.
	DescribeTable("nested where it is written: the tree's construction fails, naming both places",
		func(ctx SpecContext, mode string, inner, outer int) {
			nested := runFixtureWith(ctx, fixtureOptions{treeFails: true}, mode, 2)
			Expect(nested.exit).To(Equal(1))
			Expect(nested.clustersStarted()).To(BeEmpty())
			console := strings.Join(strings.Fields(nested.console), " ") // Ginkgo wraps the panic's text
			Expect(console).To(ContainSubstring("Ginkgo detected a panic while constructing the spec tree."))
			Expect(console).To(ContainSubstring(fmt.Sprintf("decorators.FreshDatabase at %s is inside another FreshDatabase (at %s): a spec gets one database, and with two its container's nodes would see one and the inner nodes another. Put FreshDatabase in one place: on the container, so that BeforeEach, It and AfterEach all see the database, or on the It alone.", at(inner), at(outer))))
		},
		Entry("on a container and on an It inside it", "nested-it", 27, 26),
		Entry("on two nested containers", "nested-containers", 33, 32),
	)

	It("a FreshDatabase from a variable, on a container and on an It inside it: the It fails", func() {
		f := failure("has an It with the same one")
		Expect(f.FailureNodeType).To(Equal(types.NodeTypeIt))
		Expect(f.Message).To(Equal(fmt.Sprintf(`the decorators.FreshDatabase made at %s is used on a container and again inside it: a spec gets one database, and with two its container's nodes would see one and the inner nodes another.
Put FreshDatabase in one place: on the container, so that BeforeEach, It and AfterEach all see the database, or on the It alone. To clone another template for some specs, give them a container of their own with FreshDatabase(pgginkgo.FromTemplate(...)).`, at(41))))
		Expect(run.spec("has an It with the same one").AdditionalFailures).To(BeEmpty(), "reported once, not again by the cleanup")
	})

	It("on an It, with a BeforeEach that wants the database: the BeforeEach fails, saying to move it to the container", func() {
		f := failure("while FreshDatabase is on the It")
		Expect(f.FailureNodeType).To(Equal(types.NodeTypeBeforeEach))
		Expect(f.Message).To(Equal(fmt.Sprintf(`pgginkgo.DB(ctx) in the BeforeEach at %s found no database: decorators.FreshDatabase is on the It at %s, and Ginkgo applies an It's decorators to that It alone, so the BeforeEach runs without it.
Move FreshDatabase to the Describe or Context that holds the BeforeEach: then every node of the spec sees one database.`, at(51), at(54))))
	})

	It("on a container inside the BeforeEach's: the BeforeEach fails, saying where the decorator goes", func() {
		f := failure("while FreshDatabase is on a container inside the BeforeEach's")
		Expect(f.Message).To(Equal(fmt.Sprintf(`pgginkgo.DB(ctx) in the BeforeEach at %s found no database: no decorators.FreshDatabase covers this node. FreshDatabase on a container covers every node inside it, and on an It only that It.
Put FreshDatabase on the Describe or Context that holds the BeforeEach (or on one around it).`, at(51))))
	})

	It("on an It, with an AfterEach that calls CurrentDB: the AfterEach fails after the It ran", func() {
		Expect(run.file("database", "after-each-it")).To(HavePrefix("pgg_"), "the It had its database")
		f := failure("has FreshDatabase on the It, and an AfterEach that calls CurrentDB")
		Expect(f.FailureNodeType).To(Equal(types.NodeTypeAfterEach))
		Expect(f.Message).To(Equal(fmt.Sprintf(`pgginkgo.CurrentDB() in the AfterEach at %s found no database: decorators.FreshDatabase is on the It at %s, and Ginkgo applies an It's decorators to that It alone, so the AfterEach runs without it.
Move FreshDatabase to the Describe or Context that holds the AfterEach: then every node of the spec sees one database.`, at(65), at(68))))
	})

	It("on an Ordered container: its database goes back when the container ends, and later specs get none", func() {
		ordered := run.file("database", "ordered")
		Expect(ordered).To(HavePrefix("pgg_"))
		// The failed container's database was released (and so kept) before
		// the next spec started, not at the end of the run.
		Expect(run.file("comment", "runs after the Ordered container, without the decorator")).To(MatchRegexp(
			`^pgginkgo kept at \S+ \(failed\): placements an Ordered container fails, so that its database is kept when the container ends$`))
		f := failure("runs after the Ordered container, without the decorator")
		Expect(f.Message).To(HavePrefix("pgginkgo.CurrentDB() found no database for this spec: decorate the spec or its container with decorators.FreshDatabase()"))
	})
})
