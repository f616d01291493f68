package goosemigrator_test

import (
	"context"
	"database/sql"
	"os"

	"github.com/pressly/goose/v3"

	goosemigrator "github.com/pgginkgo/pgginkgo/migrators/goose"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// A suite whose default template is the goose migrations in ./migrations,
// plus a Go migration that seeds rows. Specs decorated with
// decorators.FreshDatabase() get a clone of it.
func Example() {
	seed := goose.NewGoMigration(3, &goose.GoFunc{
		RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO products (sku, name) VALUES ('A-1', 'anvil')`)
			return err
		},
	}, nil)

	var _ = pgginkgo.Suite(
		pgginkgo.DefineTemplate("default", goosemigrator.New(os.DirFS("migrations"),
			// Change "seed-v1" whenever the Go migration's code changes.
			goosemigrator.GoMigrations("seed-v1", seed),
		)),
	)
}
