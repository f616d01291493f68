// Package migtest holds what the adapter modules' Ginkgo suites share:
// reading rows of the running spec's database, and an empty scratch
// database for migrations meant to fail, which no template could be
// built from.
package migtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/jackc/pgx/v5"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// QueryStrings runs a query that returns one text column on the running
// spec's database.
func QueryStrings(ctx context.Context, sql string, args ...any) []string {
	ginkgo.GinkgoHelper()
	rows, err := pgginkgo.DB(ctx).Pool().Query(ctx, sql, args...)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return out
}

// WithScratchDatabase runs fn with a superuser connection to a new, empty
// database, as pgginkgo hands one to a Migrator's Migrate, and drops the
// database afterwards.
func WithScratchDatabase(ctx context.Context, fn func(conn *pgx.Conn)) {
	ginkgo.GinkgoHelper()
	admin, err := pgx.ConnectConfig(ctx, ConnConfig(pgginkgo.Cluster().Database))
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	defer admin.Close(context.WithoutCancel(ctx))
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := pgx.Identifier{"migtest_scratch_" + hex.EncodeToString(suffix[:])}
	_, err = admin.Exec(ctx, "CREATE DATABASE "+name.Sanitize())
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	defer func() {
		_, _ = admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name.Sanitize()+" WITH (FORCE)")
	}()
	conn, err := pgx.ConnectConfig(ctx, ConnConfig(name[0]))
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	defer conn.Close(context.WithoutCancel(ctx))
	fn(conn)
}

// ConnConfig is the suite cluster's connection config for db.
func ConnConfig(db string) *pgx.ConnConfig {
	ginkgo.GinkgoHelper()
	cc, err := pgginkgo.Cluster().ConnConfig(db)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return cc
}

// Schema is db.Schema, failing the spec on an error: pg_dump
// --schema-only of the database, for before-and-after comparisons.
func Schema(ctx context.Context, db *pgginkgo.Database) string {
	ginkgo.GinkgoHelper()
	s, err := db.Schema(ctx)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return s
}
