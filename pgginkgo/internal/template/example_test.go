package template_test

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// Build a "schema+seed" template from a migrations directory and seed SQL,
// clone it for a spec, and drop the clone afterwards.
func ExampleBuilder_Build() {
	ctx := context.Background()
	connect := func(ctx context.Context, db string) (*pgx.Conn, error) {
		return pgx.Connect(ctx, "postgres://postgres@localhost/"+db)
	}
	built, err := template.Builder{Connect: connect}.Build(ctx, template.Template{
		Name: "schema+seed",
		Sources: []template.Migrator{
			template.SQLFiles(os.DirFS("../migrations")),
			template.SQLFiles(os.DirFS("../seed")),
		},
	})
	if err != nil {
		fmt.Println(err) // e.g. ../migrations/002_orders.sql:4:10: ERROR: …
		return
	}
	maintenance, err := connect(ctx, "postgres")
	if err != nil {
		return
	}
	defer maintenance.Close(ctx)
	admin, err := template.NewAdmin(ctx, maintenance)
	if err != nil {
		return
	}
	if err := admin.Clone(ctx, built.Database, "spec_1"); err != nil {
		fmt.Println(err)
		return
	}
	defer admin.Drop(ctx, "spec_1")
}

// Go migrations carry a version string that stands for their content.
func ExampleFunc() {
	seed := template.Func("seed-v3", func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `INSERT INTO plans (name) VALUES ('free'), ('pro')`)
		return err
	})
	_ = template.Template{Name: "seeded", Sources: []template.Migrator{
		template.SQLFiles(os.DirFS("../migrations")), seed,
	}}
}

func ExampleValidateDatabaseName() {
	fmt.Println(template.ValidateDatabaseName("spec_42"))
	fmt.Println(template.ValidateDatabaseName("Spec-42"))
	// Output:
	// <nil>
	// invalid database name "Spec-42": character 'S' at byte 0 is not allowed; use lower-case letters, digits and underscores
}
