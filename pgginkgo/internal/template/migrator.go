package template

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Migrator is one step of a template's schema, which pgginkgo.Migrator
// names for users (and documents). SQLFiles and Func are the built-in ones.
type Migrator interface {
	// Fingerprint identifies what Migrate applies; it names the template
	// database.
	Fingerprint(ctx context.Context) (string, error)
	// Migrate applies the migrations over a superuser connection to the
	// template database being built.
	Migrate(ctx context.Context, conn *pgx.Conn) error
}

// MigrateFunc is a Go migration: it receives a superuser connection to the
// template database being built.
type MigrateFunc func(ctx context.Context, conn *pgx.Conn) error

// Func turns a Go function into a Migrator. version stands for the function's
// content in the template's hash: change it whenever fn changes what it
// creates, or a template built by the old code will be reused.
func Func(version string, fn MigrateFunc) Migrator {
	return funcMigrator{version: version, fn: fn}
}

type funcMigrator struct {
	version string
	fn      MigrateFunc
}

func (f funcMigrator) Fingerprint(context.Context) (string, error) {
	if f.version == "" {
		return "", errors.New("a Go migration needs a non-empty version string: it stands for the function's content, so bump it when the function changes")
	}
	if f.fn == nil {
		return "", fmt.Errorf("the Go migration %q has a nil function; pass the function that applies it", f.version)
	}
	return "func:" + f.version, nil
}

func (f funcMigrator) Migrate(ctx context.Context, conn *pgx.Conn) error {
	if err := f.fn(ctx, conn); err != nil {
		return &MigrationError{Source: fmt.Sprintf("Go migration %q", f.version), Err: err}
	}
	return nil
}
