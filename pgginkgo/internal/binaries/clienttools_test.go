package binaries

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestClientToolPrefersTheOneBesideTheServer(t *testing.T) {
	needDebian15(t)
	got, err := ClientTool(context.Background(), debian15+"/bin", "pg_dump", 15)
	if err != nil || got != filepath.Join(debian15, "bin", "pg_dump") {
		t.Fatalf("ClientTool = %q, %v; want Debian's own pg_dump", got, err)
	}
}

// A server-only tree (as downloaded) of an older major borrows the
// installed client, which reads older servers.
func TestClientToolBorrowsAnInstalledClientForAServerOnlyTree(t *testing.T) {
	needDebian15(t)
	serverOnly := t.TempDir()
	got, err := ClientTool(context.Background(), serverOnly, "pg_dump", 13)
	if err != nil || got != filepath.Join(debian15, "bin", "pg_dump") {
		t.Fatalf("ClientTool for a 13 server = %q, %v; want %s/bin/pg_dump", got, err, debian15)
	}
}

func TestClientToolSaysWhatToInstallForANewerServer(t *testing.T) {
	needDebian15(t)
	serverOnly := t.TempDir()
	_, err := ClientTool(context.Background(), serverOnly, "pg_dump", 18)
	if !errors.Is(err, ErrNoClientTool) {
		t.Fatalf("err = %v; want ErrNoClientTool", err)
	}
	for _, want := range []string{
		"pg_dump is not in " + serverOnly + ", beside the server",
		debian15 + "/bin/pg_dump is PostgreSQL 15",
		"older than the server's PostgreSQL 18",
		"apt-get install postgresql-client-18",
		"pgginkgo.BinariesPath",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// psql, unlike pg_dump, talks to servers newer than itself: with no client
// of the server's major installed, the newest installed psql is used.
func TestClientToolLendsAnOlderPsqlToANewerServer(t *testing.T) {
	needDebian15(t)
	serverOnly := t.TempDir()
	got, err := ClientTool(context.Background(), serverOnly, "psql", 18)
	if err != nil || got != filepath.Join(debian15, "bin", "psql") {
		t.Fatalf("ClientTool(psql) for an 18 server = %q, %v; want %s/bin/psql", got, err, debian15)
	}
}
