package golangmigrator_test

import (
	"context"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// versionRows is what golang-migrate's version table holds: one row,
// "version dirty", if all went well.
func versionRows(ctx context.Context, db *pgginkgo.Database, table string) []string {
	rows, err := db.Pool().Query(ctx, `SELECT version::text || ' ' || dirty::text FROM `+pgx.Identifier{table}.Sanitize())
	Expect(err).NotTo(HaveOccurred())
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	Expect(err).NotTo(HaveOccurred())
	return out
}

func indexIsValid(ctx context.Context, db *pgginkgo.Database, index string) bool {
	var valid bool
	Expect(db.Pool().QueryRow(ctx, `SELECT indisvalid FROM pg_index WHERE indexrelid = $1::regclass`, index).Scan(&valid)).To(Succeed())
	return valid
}
