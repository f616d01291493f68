package dbmatemigrator

import (
	"io"
	"net/url"
	"testing"

	"github.com/amacneil/dbmate/v2/pkg/dbmate"
	"github.com/jackc/pgx/v5"
)

func TestRegistrationURL(t *testing.T) {
	for _, c := range []struct{ conn, want string }{
		{"host=/dev/shm/pg/sock port=5433 user=postgres password=s3cret dbname=pgg_t1",
			"pgginkgo-dbmate://postgres@:5433/pgg_t1?host=%2Fdev%2Fshm%2Fpg%2Fsock&pgginkgo_registration=7"},
		{"postgres://postgres:s3cret@127.0.0.1:40123/pgg_t1?sslmode=disable",
			"pgginkgo-dbmate://postgres@127.0.0.1:40123/pgg_t1?pgginkgo_registration=7"},
	} {
		cfg, err := pgx.ParseConfig(c.conn)
		if err != nil {
			t.Fatal(err)
		}
		if got := registrationURL(cfg, "7").String(); got != c.want {
			t.Errorf("registrationURL(%q) = %q, want %q", c.conn, got, c.want)
		}
	}
	if got := registrationURL(nil, "8").String(); got != "pgginkgo-dbmate://offline/?pgginkgo_registration=8" {
		t.Errorf("registrationURL(nil) = %q", got)
	}
}

func TestUnregisteredURL(t *testing.T) {
	u, release := register(nil)
	release()
	d := newDriver(dbmateConfig(u))
	if _, err := d.Open(); err == nil || err.Error() != "dbmatemigrator: the pgginkgo-dbmate:// URL scheme only works inside dbmatemigrator's Migrate; use a postgres:// URL" {
		t.Errorf("Open after release: %v", err)
	}
	if err := d.CreateDatabase(); err == nil {
		t.Error("CreateDatabase: no error")
	}
}

func dbmateConfig(u *url.URL) dbmate.DriverConfig {
	return dbmate.DriverConfig{DatabaseURL: u, Log: io.Discard, MigrationsTableName: DefaultMigrationsTable}
}
