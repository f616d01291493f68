package recycle

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// cleanSession is DISCARD ALL without DISCARD PLANS. Throwing the session's
// plans away would make the next Reset plan its checks again, several
// milliseconds each time. DISCARD TEMP and DISCARD SEQUENCES, unlike
// DISCARD ALL, may run in the implicit transaction of a multi-statement
// query, so this is one round trip.
const cleanSession = `CLOSE ALL;
SET SESSION AUTHORIZATION DEFAULT;
RESET ALL;
UNLISTEN *;
SELECT pg_catalog.pg_advisory_unlock_all();
DISCARD TEMP;
DISCARD SEQUENCES;`

// CleanSession clears what a spec may have left in conn's session, so conn
// can run Reset and then serve the next spec: an open or failed
// transaction, cursors, the session user and role, settings, prepared
// statements (on the server and in pgx's caches), LISTENs, advisory locks,
// temporary tables and sequence caches. It keeps the session's cached
// plans, which DISCARD ALL would drop, so a Warm connection stays warm.
func CleanSession(ctx context.Context, conn *pgx.Conn) error {
	if conn.PgConn().TxStatus() != 'I' {
		if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
			return fmt.Errorf("cleaning the session: ROLLBACK: %w; close the connection instead", err)
		}
	}
	if _, err := conn.Exec(ctx, cleanSession); err != nil {
		return fmt.Errorf("cleaning the session: %w; close the connection instead", err)
	}
	// Also forgets pgx's statement and description caches.
	if err := conn.DeallocateAll(ctx); err != nil {
		return fmt.Errorf("cleaning the session: %w; close the connection instead", err)
	}
	return nil
}
