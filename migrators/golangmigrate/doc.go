// Package golangmigrator builds pgginkgo template databases with
// golang-migrate (github.com/golang-migrate/migrate/v4): the real tool
// applies your migrations once, and every spec's database is a clone of
// the result. The smallest use is one line next to RunSpecs:
//
//	var _ = pgginkgo.Suite(pgginkgo.DefineTemplate("default", golangmigrator.New(os.DirFS("migrations"))))
//
// New reads the directory with golang-migrate's iofs source and applies it
// through its pgx/v5 database driver, so each file runs with
// golang-migrate's own rules: the .up.sql files in numeric version order
// (1, 2, 10, not 1, 10, 2), each sent as one query without an explicit
// transaction. A file holding a single CREATE INDEX CONCURRENTLY therefore
// works, and one that mixes it with other statements fails, as it would
// in production. The template keeps golang-migrate's version table, so
// application code that runs Up at start finds nothing to do:
//
//	err := m.Up() // migrate.ErrNoChange on a clone of the template
//
// The template is rebuilt when golang-migrate's version, any file in the
// directory or the table name (MigrationsTable) changes; otherwise later
// runs boot the migrated image from the cache.
//
// pgginkgo.SQLDir reads the same directory without golang-migrate; use
// this package when you want golang-migrate itself, or its version table,
// in the template.
package golangmigrator
