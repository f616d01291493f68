package template

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/sqlquote"
)

// create builds the template database; on error it drops it, so a failed
// build leaves nothing behind.
func (b Builder) create(ctx context.Context, admin *Admin, conn *pgx.Conn, t Template, database, marker string) (_ recycle.Summary, err error) {
	// template0 never accepts connections, so this CREATE cannot fail with
	// "source database is being accessed by other users".
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE template0", sqlquote.Ident(database))); err != nil {
		return recycle.Summary{}, fmt.Errorf("template %q: creating database %s: %w", t.Name, database, err)
	}
	defer func() {
		if err == nil {
			return
		}
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if dropErr := admin.DropTemplate(cleanup, database); dropErr != nil {
			err = fmt.Errorf("%w\n(and dropping the half-built %s failed too: %v; drop it by hand)", err, database, dropErr)
		}
	}()
	sum, err := b.migrate(ctx, t, database)
	if err != nil {
		return sum, err
	}
	if err := waitForNoSessions(ctx, conn, database, 10*time.Second); err != nil {
		return sum, fmt.Errorf("template %q: %w", t.Name, err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s WITH IS_TEMPLATE true ALLOW_CONNECTIONS false", sqlquote.Ident(database))); err != nil {
		return sum, fmt.Errorf("template %q: marking %s as a template: %w", t.Name, database, err)
	}
	if b.Stamp {
		marker = stamped(marker, time.Now())
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS %s", sqlquote.Ident(database), sqlquote.Literal(marker))); err != nil {
		return sum, fmt.Errorf("template %q: marking %s complete: %w", t.Name, database, err)
	}
	return sum, nil
}

// migrate applies the sources and installs change tracking over one
// connection, which it closes before returning.
func (b Builder) migrate(ctx context.Context, t Template, database string) (recycle.Summary, error) {
	conn, err := b.Connect(ctx, database)
	if err != nil {
		return recycle.Summary{}, fmt.Errorf("template %q: connecting to %s: %w", t.Name, database, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for i, s := range t.Sources {
		if err := s.Migrate(ctx, conn); err != nil {
			if _, ok := binaries.MissingExtension(err); ok {
				err = fmt.Errorf("template %q, source %d: %w\nthe migration is fine, the binaries lack an extension; the half-built template was dropped", t.Name, i+1, err)
				return recycle.Summary{}, binaries.ExplainMissingExtension(err, b.BinDir, conn.PgConn().ParameterStatus("server_version"))
			}
			return recycle.Summary{}, fmt.Errorf("template %q, source %d: %w\nfix the migration and run again; the half-built template was dropped", t.Name, i+1, err)
		}
	}
	var sum recycle.Summary
	if !b.NoTracking {
		if sum, err = recycle.Install(ctx, conn); err != nil {
			return sum, fmt.Errorf("template %q: %w", t.Name, err)
		}
	}
	// Frozen, hinted and analyzed once here, instead of in every clone on
	// first read.
	if _, err := conn.Exec(ctx, "VACUUM (FREEZE, ANALYZE)"); err != nil {
		return sum, fmt.Errorf("template %q: VACUUM: %w", t.Name, err)
	}
	return sum, conn.Close(ctx)
}

// waitForNoSessions waits out backends still exiting after Close returned
// (the client does not wait for them), and reports sessions a migration
// left open, which would make every clone fail.
func waitForNoSessions(ctx context.Context, conn *pgx.Conn, database string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var n int
		var pids []int32
		err := conn.QueryRow(ctx, `SELECT count(*), COALESCE(array_agg(pid), '{}') FROM pg_catalog.pg_stat_activity
			WHERE datname = $1`, database).Scan(&n, &pids)
		if err != nil {
			return fmt.Errorf("checking sessions on %s: %w", database, err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d session(s) still connected to %s after its migrations (pids %v): close the connections your migrations open", n, database, pids)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
