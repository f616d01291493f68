// Package dbmatemigrator builds pgginkgo templates with dbmate
// (github.com/amacneil/dbmate/v2), so that a suite's databases hold
// exactly what the application's dbmate migrations produce, dbmate's
// migrations table included.
//
// The smallest use is one line next to RunSpecs:
//
//	var _ = pgginkgo.Suite(pgginkgo.DefineTemplate("default", dbmatemigrator.New(os.DirFS("db/migrations"))))
//
// The migrations are dbmate's own files: names that start with their
// version (20240101120000_create_users.sql), applied in the order of
// their names, each with a "-- migrate:up" block, which the template
// runs, and a "-- migrate:down" block, which it does not. An Up block
// runs in a transaction unless its line says
// "-- migrate:up transaction:false", as CREATE INDEX CONCURRENTLY needs.
// If the application names another migrations table, say so:
//
//	dbmatemigrator.New(os.DirFS("db/migrations"), dbmatemigrator.MigrationsTable("meta.schema_migrations"))
//
// dbmate opens its own connections from a URL, with lib/pq. Here it runs
// over pgx database/sql handles on the template being built instead:
// the package registers a dbmate driver of its own, dbmate's postgres
// driver with its connections replaced, for a URL scheme that only its
// Migrate uses. dbmate does not dump schema.sql while building a
// template.
//
// pgginkgo.SQLDir reads dbmate directories too; this package is for
// suites that want dbmate itself to apply them, and its migrations table
// in the template.
package dbmatemigrator
