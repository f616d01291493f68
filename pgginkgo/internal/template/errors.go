package template

import "errors"

// Sentinel errors callers branch on with errors.Is. The concrete errors wrap
// them and carry the detail (which file, which name, what to do next).
var (
	// ErrMigrationsNotFound: a migrations directory is missing or holds no
	// .sql files. Usually a wrong relative path: tests run in the package
	// directory, so paths are relative to it.
	ErrMigrationsNotFound = errors.New("migrations not found")

	// ErrInvalidMigrations: a migrations directory that its tool would
	// refuse or misread: two tools' files mixed, a duplicate version, a
	// misspelt marker, an unterminated block. Checked before any server
	// starts; the message names the file and line to fix.
	ErrInvalidMigrations = errors.New("invalid migrations")

	// ErrInvalidName: a template or database name PostgreSQL would reject or
	// silently truncate.
	ErrInvalidName = errors.New("invalid name")

	// ErrMigrationFailed: a migration returned an error while a template was
	// being built. errors.As with *MigrationError gives file, line and column.
	ErrMigrationFailed = errors.New("migration failed")

	// ErrUnsupportedServer: the server is older than PostgreSQL 13, which
	// lacks DROP DATABASE … WITH (FORCE) and pg_current_xact_id.
	ErrUnsupportedServer = errors.New("unsupported PostgreSQL version")
)
