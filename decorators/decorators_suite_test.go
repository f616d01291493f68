package decorators_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestDecorators(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "decorators")
}

var _ = pgginkgo.Suite(
	pgginkgo.DefineTemplate("schema", pgginkgo.SQLDir(os.DirFS("testdata/migrations"))),
	pgginkgo.DefineTemplate("seeded", pgginkgo.SQLDir(os.DirFS("testdata/migrations")), pgginkgo.SQLDir(os.DirFS("testdata/seed"))),
)
