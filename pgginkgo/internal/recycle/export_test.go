package recycle

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Dedicate makes conn a reset connection (see ResetApplicationName) and
// warms it, for the tests that open their own. pgginkgo gives the same
// settings at connection start instead, which costs no round trip.
func Dedicate(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica; SET application_name = '`+ResetApplicationName+`'`); err != nil {
		return fmt.Errorf("dedicating the reset connection: %w", err)
	}
	return Warm(ctx, conn)
}

// Warm readies conn for fast Resets. The first status query on a new
// connection plans the checks and loads catalog caches, which costs tens of
// milliseconds; Warm pays that ahead of time, off the spec's path. The
// plans last until the session's session_replication_role or search_path
// changes, so only a reset connection stays warm across Resets. Warm
// fails with ErrNotInstalled on a database without change tracking.
func Warm(ctx context.Context, conn *pgx.Conn) error {
	// The first run plans; the next ones fill the session's catalog caches.
	for range 3 {
		if _, err := readStatus(ctx, conn); err != nil {
			return err
		}
	}
	return nil
}

// Reset is Options.Reset with the default Options.
func Reset(ctx context.Context, conn *pgx.Conn) (Report, error) {
	return Options{}.Reset(ctx, conn)
}
