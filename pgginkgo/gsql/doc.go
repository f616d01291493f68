/*
Package gsql provides Gomega matchers for the state of a PostgreSQL database:
its rows, its schema, the cluster around it and the connections left open.

# Basics of gsql

To start with, hand a matcher the pool your spec already has:

	Expect(pool).To(gsql.HaveTable("jobs"))

The matcher takes one connection from the pool, asks the catalog, and gives the
connection back. A *pgxpool.Conn, a *pgx.Conn, a *sql.DB or the spec database
of package pgginkgo work the same (see PoolProvider), and so does a pgx.Tx,
which shows what the transaction has not committed yet (see Transactions).

Asserting on rows is the common case:

	Expect(pool).To(gsql.HaveRowCount("jobs", 3))
	Expect(pool).To(gsql.HaveRowCountThat("jobs", BeNumerically(">=", 3)))
	Expect(pool).To(gsql.HaveRow("users", gsql.Columns{"email": "ann@example.com"}))

Code under test often writes from another goroutine or process, so most
database checks read best with Eventually, which runs the check again until it
passes or times out. Pass the pool itself, not a function call that returns
rows: the matcher queries again on every poll.

	Eventually(pool).Should(gsql.HaveRow("jobs", gsql.Columns{"id": id, "state": "done"}))
	Eventually(pool).Should(gsql.HaveRowCount("jobs", 0)) // the queue drains
	Consistently(pool).ShouldNot(gsql.HaveRow("emails", gsql.Columns{"to": "bob@example.com"}))

Eventually also polls a function that returns a database, and with a context
(such as a SpecContext) it stops when the context ends:

	Eventually(ctx, pool).Should(gsql.HaveRowCount("jobs", 0))

# Rows

HaveRow succeeds if some row has the given column values. A value is either a
plain Go value, compared by meaning rather than Go type (3 matches a bigint 3
and a numeric "3.00"), or any Gomega matcher, in the spirit of gstruct's Fields:

	Expect(pool).To(gsql.HaveRow("jobs", gsql.Columns{
		"queue":    "mail",
		"attempts": BeNumerically(">", 1),
		"error":    BeNil(),
	}))

For anything a table and a few values cannot say, write the query. HaveRows
succeeds if the query returns rows, or with That if the rows satisfy a matcher:

	Expect(pool).To(gsql.HaveRows("SELECT 1 FROM jobs WHERE state = $1", "failed"))
	Expect(pool).To(gsql.HaveRows("SELECT name FROM users ORDER BY name").That(ConsistOf(
		HaveKeyWithValue("name", "ann"),
		HaveKeyWithValue("name", "bob"),
	)))

and Rows hands you the same rows to use as you like. Each row is a
map[string]any whose values have a few plain Go types, listed at Rows:

	rows, err := gsql.Rows(ctx, pool, "SELECT id, state FROM jobs")

# Schema and cluster

After migrations, assert on what they built:

	Expect(pool).To(gsql.HaveTable("audit.events"))
	Expect(pool).To(gsql.HaveColumn("jobs", "state"))
	Expect(pool).To(gsql.HaveColumnOfType("jobs", "run_at", "timestamptz"))
	Expect(pool).To(gsql.HaveColumnOfTypeThat("jobs", "note", HavePrefix("character varying")))
	Expect(pool).To(gsql.HaveIndex("jobs", "jobs_state_idx"))
	Expect(pool).To(gsql.HaveIndexOn("jobs", "queue", "run_at"))
	Expect(pool).To(gsql.HaveConstraint("jobs", "jobs_queue_fkey"))

and on the server around the database:

	Expect(pool).To(gsql.HaveDatabase("app_test"))
	Expect(pool).To(gsql.HaveExtension("pgcrypto"))
	Expect(pool).To(gsql.HaveRole("app_reader"))

# Leaked connections

HaveOpenConnections is a leak check in the spirit of gleak's HaveLeaked: it
lists the clients connected to the database other than the one checking, and
reads best with ShouldNot after each spec:

	AfterEach(func() {
		Eventually(pool).ShouldNot(gsql.HaveOpenConnections())
	})

Every other client counts, including a second pool of the test itself. Ignore
what belongs there by application_name, by a snapshot taken with Connections
before the spec, or by any matcher of a Connection:

	Eventually(pool).ShouldNot(gsql.HaveOpenConnections(
		gsql.IgnoringApplication("pgbouncer"),
		gsql.IgnoringConnections(before),
		HaveField("State", "idle"),
	))

A leak check needs the whole pool, so HaveOpenConnections and Connections
refuse a pgx.Tx and a *pgxpool.Conn: the idle connections of the pool behind
them would count as leaks.

# Transactions

Hand a matcher the spec's transaction to assert what the transaction itself
sees, before it commits:

	tx, err := pool.Begin(ctx)
	Expect(err).NotTo(HaveOccurred())
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, "INSERT INTO accounts (email) VALUES ('a@b.c')")
	Expect(err).NotTo(HaveOccurred())

	Expect(tx).To(gsql.HaveRow("accounts", gsql.Columns{"email": "a@b.c"}))      // tx sees its row
	Expect(pool).NotTo(gsql.HaveRow("accounts", gsql.Columns{"email": "a@b.c"})) // nobody else does yet

The same holds for schema: HaveTable, HaveColumn and the other catalog
matchers on a pgx.Tx see the tables, columns, indexes and roles it created.
A *pgxpool.Conn or *pgx.Conn with a transaction open (BEGIN sent through it)
is looked through the same way.

Through a transaction, each check runs inside a savepoint of its own, which
it rolls back when it is done, whatever happened: a check never changes what
the transaction holds (a query given to HaveRows or Rows that writes is
undone too; write with tx.Exec), and a query that fails, such as one on a
table that does not exist, makes the matcher fail while the transaction goes
on as if gsql had not looked. The check's time limit is set as the
statement_timeout inside the savepoint, so a query blocked by a lock also
ends with an ordinary error that the savepoint undoes. Two things end the
transaction all the same: a context given to Matcher.WithContext that ends
while a query runs (pgx then closes the connection), and a connection that
breaks.

A transaction that has ended (committed or rolled back) or has failed (an
earlier statement in it failed) cannot be looked through, and the matcher
says so; Eventually gives up on it at once.

# When a check fails

Every failure message, for Should and ShouldNot alike, says what was expected,
which database gsql looked at, the SQL it ran and, as a table, what is there:

	Expected table "numbers" to have 20 rows, but it has 25.
	In database "gsql_test_1", gsql ran:
	    SELECT count(*) FROM "numbers"
	    SELECT * FROM "numbers" LIMIT 10
	Rows of "numbers" (25 rows):
	    n  | word
	    ---+----------
	     1 | number 1
	     …
	    10 | number 10
	    … 15 more rows not shown

A query that fails (a table that does not exist, a timeout) makes the matcher
return an error with the database and the SQL, which Eventually retries like a
failed match. A value that is not a database makes it return an error naming
the types it accepts, printing the value as Gomega does, and Eventually gives
up on it at once:

	gsql.HaveTable expects a *pgxpool.Pool, a *pgxpool.Conn, a *pgx.Conn, a pgx.Tx, a *sql.DB or a gsql.PoolProvider (any value with a Pool() *pgxpool.Pool method, such as pgginkgo's spec database). Got:
	    <string>: postgres://localhost/app

So does an argument that no database could satisfy, such as a negative row
count or a malformed table name: constructors never panic, and the matcher's
error names the mistake.

# Names

Table names are quoted, never pasted into SQL, so an odd name is looked up as
that name and nothing else: `weird"name` works, and `jobs; DROP TABLE jobs` is
a table that does not exist. A dot separates schema from table as in SQL, a
double-quoted part may contain dots ("my.schema".events), and names are taken
as the catalog stores them, without folding case: HaveTable("Users") looks for
a table created as "Users".

# Time limits

A check never hangs a spec: its queries must finish within DefaultTimeout
(5 seconds; change it with SetDefaultTimeout, or per matcher with
Matcher.WithTimeout). Eventually(ctx, db) stops polling when ctx ends; to cancel
a query already running as well, give the matcher the context with
Matcher.WithContext:

	It("drains the queue", func(ctx SpecContext) {
		Eventually(ctx, pool).Should(gsql.HaveRowCount("jobs", 0).WithContext(ctx))
	}, SpecTimeout(time.Minute))
*/
package gsql
