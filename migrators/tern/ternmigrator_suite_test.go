package ternmigrator_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	ternmigrator "github.com/pgginkgo/pgginkgo/migrators/tern"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestTernMigrator(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ternmigrator")
}

// templateData is what the application would put in tern's Data.
var templateData = map[string]any{"app_name": "the shop", "default_currency": "EUR"}

// templatedTable is the version table of the "tern_templated" template, to
// prove the option reaches tern.
const templatedTable = "public.tern_version"

var _ = pgginkgo.Suite(
	pgginkgo.DefineTemplate("tern", ternmigrator.New(os.DirFS("testdata/plain"))),
	pgginkgo.DefineTemplate("tern_templated", ternmigrator.New(os.DirFS("testdata/templated"),
		ternmigrator.Data(templateData), ternmigrator.VersionTable(templatedTable))),
	// An empty database, for specs that run the adapter themselves.
	pgginkgo.DefineTemplate("empty"),
)
