package recycle_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// requirePostGISEnv makes the PostGIS tests fail instead of skipping when
// the server lacks PostGIS: make test installs it, so there a skip would
// hide a broken setup.
const requirePostGISEnv = "PGGINKGO_TEST_REQUIRE_POSTGIS"

// contribSQL is a schema that leans on four contrib extensions: a citext
// column under a unique index, an hstore column, a trigram index, and
// pgcrypto in defaults and a generated column.
const contribSQL = `
CREATE EXTENSION pg_trgm;
CREATE EXTENSION citext;
CREATE EXTENSION hstore;
CREATE EXTENSION pgcrypto;

CREATE TABLE members (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	email citext NOT NULL,
	name text NOT NULL,
	attrs hstore NOT NULL DEFAULT '',
	password text NOT NULL DEFAULT crypt('changeme', gen_salt('bf', 4))
);
CREATE UNIQUE INDEX members_email ON members (email);
CREATE INDEX members_name_trgm ON members USING gin (name gin_trgm_ops);

CREATE TABLE notes (
	id bigserial PRIMARY KEY,
	member uuid NOT NULL REFERENCES members ON DELETE CASCADE,
	body text NOT NULL,
	sha1 text GENERATED ALWAYS AS (encode(digest(body, 'sha1'), 'hex')) STORED
);

INSERT INTO members (id, email, name, attrs) VALUES
	('00000000-0000-4000-8000-000000000001', 'Ada@Example.com', 'Ada Lovelace', 'lang=>en, tier=>gold'),
	('00000000-0000-4000-8000-000000000002', 'grace@example.com', 'Grace Hopper', 'lang=>en'),
	('00000000-0000-4000-8000-000000000003', 'edsger@example.com', 'Edsger Dijkstra', '');
INSERT INTO notes (member, body) VALUES
	('00000000-0000-4000-8000-000000000001', 'first program'),
	('00000000-0000-4000-8000-000000000002', 'first compiler');
`

// contribSpecs write through every extension's types, functions and
// indexes; each must leave its database resettable to a fresh clone.
var contribSpecs = []specWork{
	{name: "inserts with pgcrypto defaults and hstore values", sql: `
		INSERT INTO members (email, name, attrs) VALUES ('Barbara@Example.com', 'Barbara Liskov', 'lang=>en, award=>turing');
		INSERT INTO notes (member, body) SELECT id, 'substitution' FROM members WHERE email = 'barbara@example.com';
		UPDATE members SET password = crypt('s3cret', gen_salt('md5')) WHERE email = 'BARBARA@example.com';`},
	{name: "updates citext and hstore columns of seed rows", sql: `
		UPDATE members SET email = 'ADA@EXAMPLE.COM', attrs = attrs || 'tier=>platinum' WHERE email = 'ada@example.com';
		UPDATE members SET attrs = delete(attrs, 'lang') WHERE attrs ? 'lang' AND name <> 'Ada Lovelace';
		UPDATE notes SET body = body || ' (annotated)';`},
	{name: "deletes what a trigram search finds, cascading", fn: func(ctx context.Context, conn *pgx.Conn) error {
		// Through the trigram index, as a search box would.
		if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
			return err
		}
		var found []string
		rows, err := conn.Query(ctx, `SELECT name FROM members WHERE name % 'Grace Hoper' OR name ILIKE '%dijk%' ORDER BY name`)
		if err == nil {
			found, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			return err
		}
		if fmt.Sprint(found) != "[Edsger Dijkstra Grace Hopper]" {
			return fmt.Errorf("trigram search found %v", found)
		}
		_, err = conn.Exec(ctx, `DELETE FROM members WHERE name % 'Grace Hoper' OR name ILIKE '%dijk%'`)
		return err
	}},
	{name: "is refused a second email that differs only in case", fn: func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `INSERT INTO members (email, name) VALUES ('GRACE@example.COM', 'Impostor')`)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23505" || pgErr.ConstraintName != "members_email" {
			return fmt.Errorf("a duplicate citext email: %v; want a unique violation of members_email", err)
		}
		_, err = conn.Exec(ctx, `INSERT INTO members (email, name) VALUES ('grace.h@example.com', 'Grace H.')`)
		return err
	}},
	{name: "truncates", sql: `TRUNCATE members CASCADE`},
}

// TestExtensionsRecycleToFreshClone: a template whose migrations create
// extensions recycles to a database equal to a fresh clone: contrib
// extensions, which every PostgreSQL carries, and PostGIS where the server
// has it.
func TestExtensionsRecycleToFreshClone(t *testing.T) {
	t.Run("contrib", func(t *testing.T) {
		tpl := build(t, "contrib", template.SQLFiles(fstest.MapFS{"001_contrib.sql": {Data: []byte(contribSQL)}}))
		recyclesToFreshClone(t, tpl, contribSpecs)
	})
	t.Run("postgis", func(t *testing.T) {
		needPostGIS(t)
		tpl := build(t, "postgis", template.SQLFiles(fstest.MapFS{"001_places.sql": {Data: []byte(postgisSQL)}}))
		used := recyclesToFreshClone(t, tpl, postgisSpecs)
		// spatial_ref_sys is PostGIS's own table, filled by CREATE
		// EXTENSION: the reset took the spec's row out and left the rest.
		var total, ours int
		if err := connect(t, used).QueryRow(context.Background(),
			`SELECT count(*), count(*) FILTER (WHERE srid = 990001) FROM spatial_ref_sys`).Scan(&total, &ours); err != nil {
			t.Fatal(err)
		}
		if ours != 0 || total < 1000 {
			t.Fatalf("after the resets spatial_ref_sys has %d rows, %d of them the spec's; want PostGIS's thousands and none of the spec's", total, ours)
		}
	})
}

const postgisSQL = `
CREATE EXTENSION postgis;
CREATE TABLE places (
	id bigserial PRIMARY KEY,
	name text NOT NULL,
	geom geometry(Point, 4326) NOT NULL
);
CREATE INDEX places_geom ON places USING gist (geom);
INSERT INTO places (name, geom) VALUES
	('Berlin', ST_SetSRID(ST_MakePoint(13.405, 52.52), 4326)),
	('Paris', ST_SetSRID(ST_MakePoint(2.3522, 48.8566), 4326));
`

var postgisSpecs = []specWork{
	{name: "inserts a geometry and finds it through the GIST index", fn: func(ctx context.Context, conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, `INSERT INTO places (name, geom) VALUES ('Potsdam', ST_GeomFromText('POINT(13.0645 52.3906)', 4326))`); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
			return err
		}
		var near string
		err := conn.QueryRow(ctx, `SELECT string_agg(name, ',' ORDER BY name) FROM places
			WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint(13.4, 52.5), 4326), 0.5)`).Scan(&near)
		if err != nil || near != "Berlin,Potsdam" {
			return fmt.Errorf("places near Berlin: %q, %v", near, err)
		}
		return nil
	}},
	{name: "moves and deletes seed geometries", sql: `
		UPDATE places SET geom = ST_Translate(geom, 0.1, 0.1) WHERE name = 'Berlin';
		DELETE FROM places WHERE name = 'Paris';`},
	{name: "adds a spatial reference system", sql: `
		INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, proj4text)
			VALUES (990001, 'pgginkgo', 990001, '+proj=longlat +datum=WGS84 +no_defs');
		INSERT INTO places (name, geom) VALUES ('Null Island', ST_SetSRID(ST_MakePoint(0, 0), 4326));`},
}

// needPostGIS skips the test when the server lacks PostGIS, or fails it
// when PGGINKGO_TEST_REQUIRE_POSTGIS=1 says PostGIS was installed. The
// downloaded binaries carry contrib only, so there it always skips.
func needPostGIS(t *testing.T) {
	t.Helper()
	var available bool
	if err := connect(t, "postgres").QueryRow(context.Background(),
		`SELECT EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'postgis')`).Scan(&available); err != nil {
		t.Fatal(err)
	}
	switch {
	case available:
	case binaries.Downloaded(srv.BinDir):
		t.Skipf("PostGIS is not available: the binaries in %s are downloaded ones, which carry contrib extensions only", srv.BinDir)
	case os.Getenv(requirePostGISEnv) == "1":
		t.Fatalf("PostGIS is not available to the server (binaries %q), and %s=1 requires it: apt-get install postgresql-<major>-postgis-3", srv.BinDir, requirePostGISEnv)
	default:
		t.Skipf("PostGIS is not available to the server (binaries %q): apt-get install postgresql-<major>-postgis-3 to run this test; %s=1 makes this a failure", srv.BinDir, requirePostGISEnv)
	}
}

// recyclesToFreshClone runs specs one after another on one clone of tpl,
// resetting after each, and checks that the reset recycled the database in
// place and left it equal to a fresh clone, by Inspect and (where the
// server's pg_dump is at hand) by pg_dump.
func recyclesToFreshClone(t *testing.T, tpl template.Built, specs []specWork) (used string) {
	t.Helper()
	ctx := context.Background()
	fresh := clone(t, tpl)
	used = clone(t, tpl)
	want := inspect(t, connect(t, fresh))
	wantDump := pgDump(t, fresh)
	maint := connect(t, used)
	for _, s := range specs {
		t.Run(s.name, func(t *testing.T) {
			runSpec(t, used, s)
			if inspect(t, maint).Equal(want) {
				t.Fatal("after the spec the database still equals a fresh clone; the spec does not do what it says")
			}
			rep, err := recycle.Reset(ctx, maint)
			if err != nil || rep.Outcome != recycle.Recycled {
				t.Fatalf("Reset = %+v, %v; want recycled", rep, err)
			}
			t.Logf("reset %v, %d sequences", rep.Tables, rep.Sequences)
			if d := inspect(t, maint).Diff(want, 30); d != "" {
				t.Fatalf("recycled database differs from a fresh clone:\n%s", d)
			}
			if wantDump != "" {
				if d := firstDiff(pgDump(t, used), wantDump); d != "" {
					t.Fatalf("pg_dump of the recycled database differs from a fresh clone's at %s", d)
				}
			}
		})
	}
	return used
}
