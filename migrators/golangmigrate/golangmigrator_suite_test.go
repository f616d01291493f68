package golangmigrator_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	golangmigrator "github.com/pgginkgo/pgginkgo/migrators/golangmigrate"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestGolangMigrator(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "golangmigrator")
}

const (
	// migrationsDir is a shop's schema in five versions, 1 to 5.
	migrationsDir = "testdata/migrations"
	// unpaddedDir has versions 1, 2 and 10, where 10 needs 2: numeric
	// order, not the files' lexical one.
	unpaddedDir = "testdata/unpadded"
)

var _ = pgginkgo.Suite(
	pgginkgo.DefineTemplate("golangmigrate", golangmigrator.New(os.DirFS(migrationsDir))),
	pgginkgo.DefineTemplate("sqldir", pgginkgo.SQLDir(os.DirFS(migrationsDir))),
	pgginkgo.DefineTemplate("unpadded", golangmigrator.New(os.DirFS(unpaddedDir))),
	pgginkgo.DefineTemplate("sqldir_unpadded", pgginkgo.SQLDir(os.DirFS(unpaddedDir))),
	pgginkgo.DefineTemplate("custom_table", golangmigrator.New(os.DirFS(migrationsDir),
		golangmigrator.MigrationsTable("app_schema_version"))),
)
