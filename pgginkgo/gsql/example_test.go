package gsql_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/gsql"
)

// In a suite, Expect and Eventually come from the dot-imported gomega package
// and fail the spec. The examples below make them print instead, so that
// they can run outside a suite.
var g = NewGomega(func(message string, _ ...int) { fmt.Println(message) })

// examplePool stands for the pool a suite opens in its BeforeSuite.
func examplePool() *pgxpool.Pool {
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	return pool
}

// exampleCluster boots a real cluster with pgginkgo, as a suite's
// BeforeSuite would, and returns a pool on its postgres database after
// running setup there; stop shuts it all down.
func exampleCluster(setup string) (pool *pgxpool.Pool, stop func(), err error) {
	ctx := context.Background()
	guard, handle, err := pgginkgo.Start(ctx, pgginkgo.WithoutEnv(), pgginkgo.Logger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, nil, err
	}
	pool, err = handle.OpenPool(ctx, "postgres")
	if err == nil {
		_, err = pool.Exec(ctx, setup)
	}
	stop = func() {
		if pool != nil {
			pool.Close()
		}
		_ = guard.Stop()
	}
	if err != nil {
		stop()
		return nil, nil, err
	}
	return pool, stop, nil
}

// This example asserts on a real cluster and shows a failure message as a
// spec would report it.
func Example() {
	pool, stop, err := exampleCluster(`CREATE TABLE jobs (id int PRIMARY KEY, state text);
		INSERT INTO jobs VALUES (1, 'done'), (2, 'queued')`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	g.Expect(pool).To(gsql.HaveTable("jobs"))
	g.Expect(pool).To(gsql.HaveRow("jobs", gsql.Columns{"id": 1, "state": "done"}))
	g.Expect(pool).To(gsql.HaveRowCount("jobs", 3)) // fails, and prints why
	// Output:
	// Expected table "jobs" to have 3 rows, but it has 2.
	// In database "postgres", gsql ran:
	//     SELECT count(*) FROM "jobs"
	//     SELECT * FROM "jobs" LIMIT 10
	// Rows of "jobs" (2 rows):
	//     id | state
	//     ---+-------
	//      1 | done
	//      2 | queued
}

// A spec can assert what its own transaction sees: a row the transaction
// inserted and has not committed is there for the transaction, and not for
// the pool. The check runs inside a savepoint that it rolls back, so the
// transaction goes on as if gsql had not looked.
func Example_transaction() {
	pool, stop, err := exampleCluster(`CREATE TABLE users (email text)`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO users VALUES ('ann@example.com')`); err != nil {
		fmt.Println(err)
		return
	}

	ann := gsql.Columns{"email": "ann@example.com"}
	g.Expect(tx).To(gsql.HaveRow("users", ann))      // the transaction sees its row
	g.Expect(pool).NotTo(gsql.HaveRow("users", ann)) // the pool does not, yet
	g.Expect(tx).To(gsql.HaveRowCount("users", 2))   // fails, and prints what tx sees
	// Output:
	// Expected table "users" to have 2 rows, but it has 1.
	// In database "postgres" inside the open transaction, gsql ran:
	//     SELECT count(*) FROM "users"
	//     SELECT * FROM "users" LIMIT 10
	// Rows of "users" (1 row):
	//     email
	//     ---------------
	//     ann@example.com
}

// A value that is not a database fails with the types gsql accepts.
func ExampleMatcher_Match() {
	ok, err := gsql.HaveTable("jobs").Match("postgres://localhost/app")
	fmt.Println(ok)
	fmt.Println(err)
	// Output:
	// false
	// gsql.HaveTable expects a *pgxpool.Pool, a *pgxpool.Conn, a *pgx.Conn, a pgx.Tx, a *sql.DB or a gsql.PoolProvider (any value with a Pool() *pgxpool.Pool method, such as pgginkgo's spec database). Got:
	//     <string>: postgres://localhost/app
}

func ExampleSetDefaultTimeout() {
	previous := gsql.SetDefaultTimeout(20 * time.Second) // in a BeforeSuite, for a slow CI machine
	fmt.Println(previous, gsql.DefaultTimeout())
	gsql.SetDefaultTimeout(previous)
	// Output: 5s 20s
}

func ExampleHaveTable() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveTable("jobs"))
	g.Expect(pool).To(gsql.HaveTable("audit.events"))
	g.Eventually(pool).Should(gsql.HaveTable("jobs")) // while another process migrates
}

func ExampleHaveColumn() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveColumn("jobs", "state"))
	g.Eventually(pool).ShouldNot(gsql.HaveColumn("jobs", "legacy_flag"))
}

func ExampleHaveColumnOfType() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveColumnOfType("jobs", "run_at", "timestamptz"))
	g.Expect(pool).To(gsql.HaveColumnOfType("jobs", "note", "varchar(20)"))
}

func ExampleHaveColumnOfTypeThat() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveColumnOfTypeThat("jobs", "note", HavePrefix("character varying")))
}

func ExampleHaveIndex() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveIndex("jobs", "jobs_state_idx"))
	g.Eventually(pool).Should(gsql.HaveIndex("jobs", "jobs_state_idx")) // CREATE INDEX CONCURRENTLY
}

func ExampleHaveIndexOn() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveIndexOn("jobs", "queue", "run_at"))
}

func ExampleHaveConstraint() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveConstraint("jobs", "jobs_pkey"))
}

func ExampleHaveRowCount() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveRowCount("jobs", 3))
	g.Eventually(pool).Should(gsql.HaveRowCount("jobs", 0)) // the queue drains
}

func ExampleHaveRowCountThat() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveRowCountThat("jobs", BeNumerically(">=", 3)))
}

func ExampleHaveRow() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveRow("users", gsql.Columns{"email": "ann@example.com"}))
	g.Eventually(pool).Should(gsql.HaveRow("jobs", gsql.Columns{
		"id":       42,
		"state":    "done",
		"attempts": BeNumerically(">", 1),
		"error":    BeNil(),
	}))
}

func ExampleHaveRows() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveRows("SELECT 1 FROM jobs WHERE state = $1", "failed"))
	g.Expect(pool).NotTo(gsql.HaveRows("SELECT 1 FROM jobs WHERE attempts > 3"))
}

func ExampleRowsMatcher_That() {
	pool := examplePool()
	g.Eventually(pool).Should(gsql.HaveRows("SELECT name FROM users ORDER BY name").That(ConsistOf(
		HaveKeyWithValue("name", "ann"),
		HaveKeyWithValue("name", "bob"),
	)))
}

func ExampleRows() {
	ctx := context.Background()
	pool := examplePool()
	rows, err := gsql.Rows(ctx, pool, "SELECT name, age FROM users WHERE age > $1", 30)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).To(ContainElement(HaveKeyWithValue("name", "ann")))

	// With Eventually, wrap the call in a function; Gomega passes it the
	// context and polls it until it returns no error and the rows match.
	g.Eventually(ctx, func(ctx context.Context) ([]map[string]any, error) {
		return gsql.Rows(ctx, pool, "SELECT state FROM jobs WHERE id = $1", 42)
	}).Should(ContainElement(HaveKeyWithValue("state", "done")))
}

func ExampleHaveDatabase() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveDatabase("app_test"))
	g.Eventually(pool).ShouldNot(gsql.HaveDatabase("spec_42")) // dropped after the spec
}

func ExampleHaveExtension() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveExtension("pgcrypto"))
}

func ExampleHaveRole() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveRole("app_reader"))
}

func ExampleHaveOpenConnections() {
	pool := examplePool()
	// In an AfterEach: the code under test closed what it opened.
	g.Eventually(pool).ShouldNot(gsql.HaveOpenConnections())
	// Ignoring a connection pooler and idle connections.
	g.Eventually(pool).ShouldNot(gsql.HaveOpenConnections(gsql.IgnoringApplication("pgbouncer"), HaveField("State", "idle")))
}

func ExampleConnections() {
	ctx := context.Background()
	pool := examplePool()
	before, err := gsql.Connections(ctx, pool) // in a BeforeEach
	g.Expect(err).NotTo(HaveOccurred())
	// ... the spec runs ...
	g.Eventually(pool).ShouldNot(gsql.HaveOpenConnections(gsql.IgnoringConnections(before))) // in an AfterEach
}

func ExampleMatcher_WithContext() {
	ctx := context.Background() // in a spec: the SpecContext
	pool := examplePool()
	g.Eventually(ctx, pool).Should(gsql.HaveRowCount("jobs", 0).WithContext(ctx))
}

func ExampleMatcher_WithTimeout() {
	pool := examplePool()
	g.Expect(pool).To(gsql.HaveRowCount("events", 1_000_000).WithTimeout(time.Minute))
}
