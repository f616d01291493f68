// Package goosemigrator builds pgginkgo template databases with goose
// (github.com/pressly/goose/v3): the real tool applies your migrations
// once, and every spec's database is a clone of the result. The smallest
// use is one line next to RunSpecs:
//
//	var _ = pgginkgo.Suite(pgginkgo.DefineTemplate("default", goosemigrator.New(os.DirFS("migrations"))))
//
// New runs goose's Provider (goose.NewProvider with goose.DialectPostgres,
// then Provider.Up) against the template database, so each file runs with
// goose's own rules: only the -- +goose Up part, statements split as goose
// splits them (-- +goose StatementBegin / StatementEnd for bodies with
// semicolons), each file in a transaction unless it says
// -- +goose NO TRANSACTION. The template keeps goose's version table, so
// application code that runs goose's Up at start finds nothing to do:
//
//	provider, _ := goose.NewProvider(goose.DialectPostgres, pgginkgo.DB(ctx).SQL(), os.DirFS("migrations"))
//	results, _ := provider.Up(ctx) // empty: the clone is up to date
//
// Go migrations are registered explicitly, as goose's Provider wants them,
// with a revision string that stands for their code:
//
//	goosemigrator.New(os.DirFS("migrations"),
//		goosemigrator.GoMigrations("seed-v1",
//			goose.NewGoMigration(3, &goose.GoFunc{RunTx: seedProducts}, nil),
//		),
//	)
//
// The template is rebuilt when goose's version, any file in the directory,
// the table name (TableName), a Go migration's version or a revision
// changes; otherwise later runs boot the migrated image from the cache.
// goose's -- +goose ENVSUB ON reads environment variables, which the
// fingerprint does not see: a template built with other values is reused
// until a file changes.
//
// pgginkgo.SQLDir reads the same directory without goose (it cannot run Go
// migrations); use this package when you want goose itself, its version
// table or Go migrations in the template.
package goosemigrator
