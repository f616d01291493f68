//go:build linux && amd64

package binaries

import (
	"context"
	"os"
	"os/exec"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// asUnprivileged runs cmd as nobody when the test runs as root, because
// initdb and postgres refuse to run as root.
func asUnprivileged(cmd *exec.Cmd) {
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
}

// queryOne runs a query that returns one text value.
func queryOne(ctx context.Context, dsn, query string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var s string
	err = conn.QueryRow(ctx, query).Scan(&s)
	return s, err
}
