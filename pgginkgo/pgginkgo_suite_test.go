package pgginkgo_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// These specs call Start directly, without Suite, so that each can own and
// inspect its own cluster.
func TestPgginkgo(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "pgginkgo core")
}
