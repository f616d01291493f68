package goosemigrator_test

import (
	"context"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// appliedVersions lists the versions goose recorded as applied in table,
// in the order goose inserted them.
func appliedVersions(ctx context.Context, db *pgginkgo.Database, table string) []int64 {
	rows, err := db.Pool().Query(ctx, `SELECT version_id FROM `+pgx.Identifier{table}.Sanitize()+` WHERE is_applied ORDER BY id`)
	Expect(err).NotTo(HaveOccurred())
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	Expect(err).NotTo(HaveOccurred())
	return versions
}
