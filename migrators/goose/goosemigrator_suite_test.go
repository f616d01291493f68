package goosemigrator_test

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"testing/fstest"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/pressly/goose/v3"

	goosemigrator "github.com/pgginkgo/pgginkgo/migrators/goose"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func TestGooseMigrator(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "goosemigrator")
}

// migrationsDir holds SQL migrations 1, 2, 4, 5 and 6; version 3 is the Go
// migration that seeds products, between the tables and the trigger.
const migrationsDir = "testdata/migrations"

// goRevision stands for the code of goMigrations in the fingerprint.
const goRevision = "seed-v1"

// goMigrations are the Go migrations an application would register with
// goose: 3 seeds rows and 7 creates a table (both in a transaction), 8
// builds an index outside one. A fresh set per call, as each Provider
// records the source file it finds for them.
func goMigrations() []*goose.Migration {
	return []*goose.Migration{
		goose.NewGoMigration(3, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO products (sku, name, price_cents) VALUES
				('ANV-1', 'anvil', 4999), ('ROC-2', 'rocket skates', 12900), ('GLU-3', 'bird seed', 250)`)
			return err
		}}, nil),
		goose.NewGoMigration(7, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `CREATE TABLE product_tags (
				product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
				tag        text   NOT NULL,
				PRIMARY KEY (product_id, tag))`)
			return err
		}}, nil),
		goose.NewGoMigration(8, &goose.GoFunc{RunDB: func(ctx context.Context, db *sql.DB) error {
			_, err := db.ExecContext(ctx, `CREATE INDEX CONCURRENTLY product_tags_tag_idx ON product_tags (tag)`)
			return err
		}}, nil),
	}
}

// goFileFS is a directory as goose users lay it out when the Go migration
// lives next to the SQL: 00002_seed.go is its source, which goose's
// Provider only matches to the registered migration 2, and helpers.go and
// the _test.go file have no role at all.
var goFileFS = fstest.MapFS{
	"00001_create_widgets.sql": {Data: []byte("-- +goose Up\nCREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL);\n-- +goose Down\nDROP TABLE widgets;\n")},
	"00002_seed.go":            {Data: []byte("package migrations\n\n// registered by the application with goose.WithGoMigrations\n")},
	"00002_seed_test.go":       {Data: []byte("package migrations\n")},
	"helpers.go":               {Data: []byte("package migrations\n")},
}

func seedWidgets() *goose.Migration {
	return goose.NewGoMigration(2, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO widgets VALUES (1, 'sprocket'), (2, 'flange')`)
		return err
	}}, nil)
}

var _ = pgginkgo.Suite(
	pgginkgo.DefineTemplate("goose", goosemigrator.New(os.DirFS(migrationsDir))),
	pgginkgo.DefineTemplate("sqldir", pgginkgo.SQLDir(os.DirFS(migrationsDir))),
	pgginkgo.DefineTemplate("goose_go", goosemigrator.New(os.DirFS(migrationsDir),
		goosemigrator.GoMigrations(goRevision, goMigrations()...))),
	pgginkgo.DefineTemplate("goose_table", goosemigrator.New(os.DirFS(migrationsDir),
		goosemigrator.TableName("schema_versions"))),
	pgginkgo.DefineTemplate("goose_gofile", goosemigrator.New(goFileFS,
		goosemigrator.GoMigrations("widgets-v1", seedWidgets()))),
)
