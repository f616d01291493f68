package conformance_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/decorators"
	"github.com/pgginkgo/pgginkgo/migrators/internal/adapter"
	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// atlasTemplate applies dir with atlasApply, closing its connections
// before returning.
func atlasTemplate(dir string) func(ctx context.Context, conn *pgx.Conn) error {
	return func(ctx context.Context, conn *pgx.Conn) error {
		db := adapter.SQLDB(conn)
		defer db.Close()
		if _, err := atlasApply(ctx, db, dir); err != nil {
			return err
		}
		return db.Close()
	}
}

// atlasApply does what `atlas migrate apply --dir file://<dir>` does with
// its defaults, through atlas's own library: validate the directory against
// atlas.sum, take atlas's advisory lock, ask the Executor for the pending
// files, and execute each one in its own transaction (--tx-mode file),
// unless the file's "-- atlas:txmode none" directive says to run it
// outside one. It returns how many files it applied.
func atlasApply(ctx context.Context, db *sql.DB, dir string) (int, error) {
	local, err := migrate.NewLocalDir(dir)
	if err != nil {
		return 0, fmt.Errorf("atlas: %w", err)
	}
	if err := migrate.Validate(local); err != nil {
		return 0, fmt.Errorf("atlas: %s does not match its atlas.sum: %w", dir, err)
	}
	drv, err := postgres.Open(db)
	if err != nil {
		return 0, fmt.Errorf("atlas: %w", err)
	}
	unlock, err := drv.Lock(ctx, "atlas_migrate_execute", 0)
	if err != nil {
		return 0, fmt.Errorf("atlas: acquiring the migration lock: %w", err)
	}
	defer func() { _ = unlock() }()
	revs := atlasRevisions{db}
	if err := revs.create(ctx); err != nil {
		return 0, err
	}
	ex, err := migrate.NewExecutor(drv, local, revs, atlasOperator)
	if err != nil {
		return 0, fmt.Errorf("atlas: %w", err)
	}
	pending, err := ex.Pending(ctx)
	if errors.Is(err, migrate.ErrNoPendingFiles) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("atlas: %w", err)
	}
	for i, f := range pending {
		if err := atlasExecute(ctx, db, drv, local, f); err != nil {
			return i, fmt.Errorf("atlas: applying %s: %w", f.Name(), err)
		}
	}
	return len(pending), unlock()
}

// atlasOperator is recorded in each revision, as the CLI records its own.
// atlasExecutor is where toolVersion reads Atlas's version.
var atlasExecutor = migrate.NewExecutor

var atlasOperator = migrate.WithOperatorVersion("pgginkgo conformance (atlas " + adapter.ToolVersion("ariga.io/atlas", migrate.NewExecutor) + ")")

// atlasExecute runs one file as the CLI does: an Executor over a
// transaction, with the revisions written in the same transaction, or over
// the plain connection for a "-- atlas:txmode none" file.
func atlasExecute(ctx context.Context, db *sql.DB, drv migrate.Driver, dir migrate.Dir, f migrate.File) error {
	mode, err := atlasTxMode(f)
	if err != nil {
		return err
	}
	if mode == "none" {
		ex, err := migrate.NewExecutor(drv, dir, atlasRevisions{db}, atlasOperator)
		if err != nil {
			return err
		}
		return ex.Execute(ctx, f)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	txDrv, err := postgres.Open(tx)
	if err != nil {
		return err
	}
	ex, err := migrate.NewExecutor(txDrv, dir, atlasRevisions{tx}, atlasOperator)
	if err != nil {
		return err
	}
	if err := ex.Execute(ctx, f); err != nil {
		return err
	}
	return tx.Commit()
}

// atlasTxMode reads a file's "-- atlas:txmode" directive with the rules of
// `atlas migrate apply` under the default --tx-mode file.
func atlasTxMode(f migrate.File) (string, error) {
	local, ok := f.(*migrate.LocalFile)
	if !ok {
		return "file", nil
	}
	switch ds := local.Directive("txmode"); {
	case len(ds) == 0:
		return "file", nil
	case len(ds) > 1:
		return "", fmt.Errorf("multiple txmode values found in file %q: %q", f.Name(), ds)
	case ds[0] == "none", ds[0] == "file":
		return ds[0], nil
	default:
		return "", fmt.Errorf("txmode %q is not allowed in file %q: use none or file", ds[0], f.Name())
	}
}

// atlasRevisionsTable is where atlasRevisions keeps atlas's revisions: the
// columns of the CLI's atlas_schema_revisions table, in the public schema
// (the CLI defaults to a schema of its own, which the comparison could not
// set aside with a table pattern).
const atlasRevisionsTable = "atlas_schema_revisions"

// atlasRevisions is the migrate.RevisionReadWriter the Executor needs,
// over a connection or a transaction.
type atlasRevisions struct{ q schema.ExecQuerier }

var _ migrate.RevisionReadWriter = atlasRevisions{}

func (r atlasRevisions) create(ctx context.Context) error {
	_, err := r.q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS public.`+atlasRevisionsTable+` (
		version          varchar PRIMARY KEY,
		description      varchar NOT NULL,
		type             bigint NOT NULL DEFAULT 2,
		applied          bigint NOT NULL DEFAULT 0,
		total            bigint NOT NULL DEFAULT 0,
		executed_at      timestamptz NOT NULL,
		execution_time   bigint NOT NULL,
		error            text,
		error_stmt       text,
		hash             varchar NOT NULL,
		partial_hashes   jsonb,
		operator_version varchar NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("atlas: creating the revisions table: %w", err)
	}
	return nil
}

func (atlasRevisions) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Name: atlasRevisionsTable, Schema: "public"}
}

const atlasRevisionColumns = `version, description, type, applied, total, executed_at, execution_time,
	coalesce(error, ''), coalesce(error_stmt, ''), hash, coalesce(partial_hashes, '[]'), operator_version`

func (r atlasRevisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+atlasRevisionColumns+` FROM public.`+atlasRevisionsTable+` ORDER BY version COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var revs []*migrate.Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		revs = append(revs, rev)
	}
	return revs, rows.Err()
}

func (r atlasRevisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+atlasRevisionColumns+` FROM public.`+atlasRevisionsTable+` WHERE version = $1`, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, migrate.ErrRevisionNotExist
	}
	return scanRevision(rows)
}

func scanRevision(rows *sql.Rows) (*migrate.Revision, error) {
	var (
		rev     migrate.Revision
		typ     int64
		elapsed int64
		partial []byte
	)
	err := rows.Scan(&rev.Version, &rev.Description, &typ, &rev.Applied, &rev.Total, &rev.ExecutedAt, &elapsed,
		&rev.Error, &rev.ErrorStmt, &rev.Hash, &partial, &rev.OperatorVersion)
	if err != nil {
		return nil, err
	}
	rev.Type = migrate.RevisionType(typ)
	rev.ExecutionTime = time.Duration(elapsed)
	if err := json.Unmarshal(partial, &rev.PartialHashes); err != nil {
		return nil, fmt.Errorf("revision %s: partial_hashes: %w", rev.Version, err)
	}
	return &rev, nil
}

func (r atlasRevisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	var partial []byte
	if rev.PartialHashes != nil {
		var err error
		if partial, err = json.Marshal(rev.PartialHashes); err != nil {
			return err
		}
	}
	_, err := r.q.ExecContext(ctx, `INSERT INTO public.`+atlasRevisionsTable+` (version, description, type, applied,
			total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, nullif($8, ''), nullif($9, ''), $10, $11::jsonb, $12)
		ON CONFLICT (version) DO UPDATE SET description = EXCLUDED.description, type = EXCLUDED.type,
			applied = EXCLUDED.applied, total = EXCLUDED.total, executed_at = EXCLUDED.executed_at,
			execution_time = EXCLUDED.execution_time, error = EXCLUDED.error, error_stmt = EXCLUDED.error_stmt,
			hash = EXCLUDED.hash, partial_hashes = EXCLUDED.partial_hashes, operator_version = EXCLUDED.operator_version`,
		rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total, rev.ExecutedAt, int64(rev.ExecutionTime),
		rev.Error, rev.ErrorStmt, rev.Hash, nullableJSON(partial), rev.OperatorVersion)
	return err
}

func nullableJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func (r atlasRevisions) DeleteRevision(ctx context.Context, version string) error {
	_, err := r.q.ExecContext(ctx, `DELETE FROM public.`+atlasRevisionsTable+` WHERE version = $1`, version)
	return err
}

// TestAtlasSum checks testdata/atlas against its atlas.sum the way atlas
// does before it applies anything; with UPDATE_ATLAS_SUM=1 it first writes
// the file from atlas's own hashing. A plain test, so it also runs (and can
// repair the file) when the suite cannot build the atlas template.
func TestAtlasSum(t *testing.T) {
	dir, err := migrate.NewLocalDir(atlasDir)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_ATLAS_SUM") == "1" {
		sum, err := dir.Checksum()
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate.WriteSumFile(dir, sum); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrate.Validate(dir); err != nil {
		t.Fatalf("%s does not match the migrations (%v): run UPDATE_ATLAS_SUM=1 go test -run TestAtlasSum . once, then commit the new atlas.sum",
			filepath.Join(atlasDir, migrate.HashFileName), err)
	}
}

var _ = Describe("atlas's migration directory", func() {
	It("has one file that atlas runs outside a transaction", func() {
		dir, err := migrate.NewLocalDir(atlasDir)
		Expect(err).NotTo(HaveOccurred())
		files, err := dir.Files()
		Expect(err).NotTo(HaveOccurred())
		modes := map[string]string{}
		for _, f := range files {
			modes[f.Name()], err = atlasTxMode(f)
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(modes).To(Equal(map[string]string{
			"20240101000000_init.sql":                "file",
			"20240102000000_orders.sql":              "file",
			"20240103000000_functions.sql":           "file",
			"20240104000000_orders_status_index.sql": "none",
		}))
	})
})

var _ = Describe("atlas's template", decorators.FreshDatabase(pgginkgo.FromTemplate("tool-atlas")), func() {
	It("records every migration, fully applied, in atlas_schema_revisions", func(ctx SpecContext) {
		revs, err := atlasRevisions{pgginkgo.DB(ctx).SQL()}.ReadRevisions(ctx)
		Expect(err).NotTo(HaveOccurred())
		dir, err := migrate.NewLocalDir(atlasDir)
		Expect(err).NotTo(HaveOccurred())
		files, err := dir.Files()
		Expect(err).NotTo(HaveOccurred())
		Expect(revs).To(HaveLen(len(migrationFiles(atlasDir))))
		Expect(revs).To(HaveLen(len(files)))
		sum, err := dir.Checksum()
		Expect(err).NotTo(HaveOccurred())
		for i, f := range files {
			hash, err := sum.SumByName(f.Name())
			Expect(err).NotTo(HaveOccurred())
			rev := revs[i]
			Expect(rev.Version).To(Equal(f.Version()), f.Name())
			Expect(rev.Description).To(Equal(f.Desc()), f.Name())
			Expect(rev.Type).To(Equal(migrate.RevisionTypeExecute), f.Name())
			Expect(rev.Total).To(BeNumerically(">", 0), f.Name())
			Expect(rev.Applied).To(Equal(rev.Total), f.Name())
			Expect(rev.Error).To(BeEmpty(), f.Name())
			Expect(rev.Hash).To(Equal(hash), f.Name())
			Expect(rev.PartialHashes).To(BeEmpty(), f.Name())
		}
		Expect(revs[2].Total).To(Equal(3), "20240103000000_functions.sql holds two functions and a trigger")
	})

	It("leaves nothing pending for atlas migrate apply at start", func(ctx SpecContext) {
		db := pgginkgo.DB(ctx).SQL()
		dir, err := migrate.NewLocalDir(atlasDir)
		Expect(err).NotTo(HaveOccurred())
		drv, err := postgres.Open(db)
		Expect(err).NotTo(HaveOccurred())
		ex, err := migrate.NewExecutor(drv, dir, atlasRevisions{db})
		Expect(err).NotTo(HaveOccurred())
		_, err = ex.Pending(ctx)
		Expect(err).To(MatchError(migrate.ErrNoPendingFiles))

		n, err := atlasApply(ctx, db, atlasDir)
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(BeZero())
	})
})
