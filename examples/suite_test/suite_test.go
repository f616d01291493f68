// Package suite_test is a small, realistic pgginkgo suite to copy from. It
// tests package shop (users and orders) against a real PostgreSQL:
//
//	go run github.com/onsi/ginkgo/v2/ginkgo -p ./examples/suite_test
//
// Each topic has its own file: signup_test.go (a fresh database per spec),
// checkout_test.go (one database shared by an Ordered story, seeded rows,
// psql), config_test.go (scoped environment variables) and cluster_test.go
// (the cluster itself, for code that needs a server).
package suite_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestShop(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "shop example")
}

// The only setup: one PostgreSQL cluster for the whole run, started on
// process 1 and shared by every ginkgo -p process, with PG* variables
// pointing at it, and two templates migrated once from the SQL files.
// migrations/ is written for goose (Up and Down sections, StatementBegin
// blocks, a NO TRANSACTION file): SQLDir sees that and applies the Up
// sections as goose would, with no configuration.
// Once per machine, not once per run: the first run keeps the migrated
// cluster as an image in the cache, and later runs boot from it (run with
// PGGINKGO_LOG_LEVEL=info and -v to see "image hit" in the log).
// Paths are relative to this directory, where ginkgo runs the suite.
var _ = pgginkgo.Suite(
	// The first template is the default one: the bare schema.
	pgginkgo.DefineTemplate("schema", pgginkgo.SQLDir(os.DirFS("migrations"))),
	// The same schema plus known rows, for specs that start from existing
	// customers: decorators.FreshDatabase(pgginkgo.FromTemplate("seeded")).
	pgginkgo.DefineTemplate("seeded", pgginkgo.SQLDir(os.DirFS("migrations")), pgginkgo.SQLDir(os.DirFS("seed"))),
)
