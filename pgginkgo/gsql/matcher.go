package gsql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/onsi/gomega/format"
)

// fallbackTimeout bounds every check unless the user chose otherwise: long
// enough for a busy CI machine, short enough that a lock held by the code
// under test shows up as a failure instead of a hung spec.
const fallbackTimeout = 5 * time.Second

// defaultTimeout is the one piece of package state. It is atomic because
// Eventually polls from its own goroutine while a suite's BeforeSuite may
// call SetDefaultTimeout.
var defaultTimeout atomic.Int64

// SetDefaultTimeout sets how long one check may spend on its queries for
// every matcher that has no WithTimeout of its own, and for Rows and
// Connections. It returns the previous value so a suite can restore it. The
// default is 5 seconds; d <= 0 restores it.
//
//	func TestApp(t *testing.T) {
//		gsql.SetDefaultTimeout(20 * time.Second) // slow CI machines
//		RegisterFailHandler(Fail)
//		RunSpecs(t, "App")
//	}
func SetDefaultTimeout(d time.Duration) (previous time.Duration) {
	previous = DefaultTimeout()
	defaultTimeout.Store(int64(max(d, 0)))
	return previous
}

// DefaultTimeout reports the timeout set by SetDefaultTimeout.
func DefaultTimeout() time.Duration {
	if d := time.Duration(defaultTimeout.Load()); d > 0 {
		return d
	}
	return fallbackTimeout
}

// check is one matcher's question to the database and its reading of the
// answer, written once per matcher; Matcher does everything they share.
type check interface {
	run(p *probe) (outcome, error)
}

// validator is a check with arguments that no database could satisfy, such
// as a negative row count, which it reports before gsql touches a database.
// (Constructors do not panic: a Gomega failure names the matcher and lets the
// rest of the spec's report through.)
type validator interface {
	validate() error
}

// outcome is what a check concluded, phrased for a failure message of the
// form "Expected <subject> to <predicate>, but <found>."
type outcome struct {
	matched   bool
	subject   string
	predicate string
	found     string
	// detail, if set, adds lines such as an inner matcher's own message,
	// which differs for Should and ShouldNot.
	detail func(negated bool) string
}

// Matcher is the Gomega matcher behind every matcher in this package (see
// RowsMatcher for HaveRows). Its With methods configure how it talks to the
// database; each returns a new Matcher and leaves the receiver as it was.
type Matcher struct {
	name    string
	check   check
	ctx     context.Context
	timeout time.Duration
	// whole is set for checks that must see the whole pool (see
	// PoolProvider).
	whole bool

	// What the last Match saw, for the failure messages Gomega asks for
	// right after it, and whether its error was final.
	last    *probe
	outcome outcome
	final   bool
}

func newMatcher(name string, c check) *Matcher {
	return &Matcher{name: name, check: c}
}

// WithContext makes the matcher's queries stop when ctx ends, such as the
// SpecContext of an interruptible spec. Eventually(ctx, db) already stops
// polling when ctx ends, but a query it started runs on until the timeout;
// with WithContext(ctx) that query is cancelled too. (pgx cancels a query by
// closing its connection, so through a transaction, the transaction ends
// with it.)
//
//	It("drains the queue", func(ctx SpecContext) {
//		Eventually(ctx, pool).Should(gsql.HaveRowCount("jobs", 0).WithContext(ctx))
//	}, SpecTimeout(time.Minute))
func (m *Matcher) WithContext(ctx context.Context) *Matcher {
	c := m.clone()
	c.ctx = ctx
	return c
}

// WithTimeout bounds the time one Match may spend on its queries, in place
// of DefaultTimeout. With Eventually this bounds each poll, not the whole
// wait.
//
//	Expect(pool).To(gsql.HaveRowCount("big_table", 1_000_000).WithTimeout(time.Minute))
func (m *Matcher) WithTimeout(d time.Duration) *Matcher {
	c := m.clone()
	c.timeout = d
	return c
}

func (m *Matcher) clone() *Matcher {
	c := *m
	c.last, c.outcome, c.final = nil, outcome{}, false
	return &c
}

// Match runs the check against actual, any database gsql accepts (see
// PoolProvider). It returns an error, not false, when it cannot answer: actual
// is not a database, an argument of the matcher is invalid, or a query failed.
func (m *Matcher) Match(actual any) (bool, error) {
	m.last, m.outcome, m.final = nil, outcome{}, false
	ok, err := m.match(actual)
	m.final = isFinal(err)
	return ok, err
}

func (m *Matcher) match(actual any) (bool, error) {
	if v, ok := m.check.(validator); ok {
		if err := v.validate(); err != nil {
			return false, final(fmt.Errorf("gsql.%s: %w", m.name, err))
		}
	}
	src, err := resolve(actual, m.whole)
	if err != nil {
		return false, fmt.Errorf("gsql.%s %w", m.name, err)
	}
	p, err := runProbe(m.ctx, m.timeout, src, func(p *probe) error {
		o, err := m.check.run(p)
		m.outcome = o
		return err
	})
	m.last = p
	if err != nil {
		return false, fmt.Errorf("gsql.%s: %w", m.name, err)
	}
	return m.outcome.matched, nil
}

// FailureMessage explains a failed Should or To.
func (m *Matcher) FailureMessage(actual any) string { return m.message(false) }

// NegatedFailureMessage explains a failed ShouldNot or NotTo.
func (m *Matcher) NegatedFailureMessage(actual any) string { return m.message(true) }

// MatchMayChangeInTheFuture tells Eventually to give up at once when polling
// again cannot help: the value is not a database, the matcher's arguments are
// invalid, or the transaction it looks through has ended or failed.
func (m *Matcher) MatchMayChangeInTheFuture(actual any) bool {
	return !m.final
}

func (m *Matcher) message(negated bool) string {
	if m.last == nil {
		return fmt.Sprintf("gsql.%s has not looked at a database yet", m.name)
	}
	o := m.outcome
	to := "to"
	if negated {
		to = "not to"
	}
	var b strings.Builder
	but := ", but"
	if strings.Contains(o.predicate, "\n") {
		but = "\nbut" // a list of expectations reads better on its own lines
	}
	fmt.Fprintf(&b, "Expected %s %s %s%s %s.\n", o.subject, to, o.predicate, but, o.found)
	if o.detail != nil {
		if d := o.detail(negated); d != "" {
			b.WriteString(strings.TrimRight(d, "\n") + "\n")
		}
	}
	b.WriteString(m.last.report())
	return b.String()
}

// probe is one look at the database: the connection it holds, the queries it
// ran and the rows worth showing.
type probe struct {
	ctx      context.Context
	src      source
	s        session
	database string
	inTx     bool // looking through a transaction that is not gsql's
	ran      []string
	shown    *table
	// release runs when the check ends, for connections it borrowed.
	release []func()
}

// runProbe holds a connection of src, bounded by timeout (or DefaultTimeout),
// and calls fn with a probe on it.
func runProbe(ctx context.Context, timeout time.Duration, src source, fn func(*probe) error) (*probe, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if timeout <= 0 {
		timeout = DefaultTimeout()
	}
	p := &probe{src: src, database: "?", inTx: src.inTransaction()}
	limit := timeout
	if p.inTx {
		limit += statementGrace
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	p.ctx = ctx
	err := withSession(ctx, src, timeout, func(s session) error {
		defer func() {
			for _, r := range p.release {
				r()
			}
		}()
		p.s = s
		// Unrecorded: it is bookkeeping, not part of the user's question.
		err := s.each(ctx, "SELECT current_database()", nil, func(_ []string, row []any) bool {
			p.database, _ = row[0].(string)
			return false
		})
		if err != nil {
			return p.failed("SELECT current_database()", nil, err)
		}
		return fn(p)
	})
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded) || p.inTx && statementTimedOut(err)
	if err != nil && parent.Err() == nil && timedOut {
		err = fmt.Errorf("%w\ngsql gives each check %s; raise it with WithTimeout or SetDefaultTimeout", err, timeout)
	}
	return p, err
}

// each runs sql, records it for the failure message and streams its rows.
func (p *probe) each(sql string, args []any, visit func(cols []string, row []any) bool) error {
	p.ran = append(p.ran, showQuery(sql, args))
	if err := p.s.each(p.ctx, sql, args, visit); err != nil {
		return p.failed(sql, args, err)
	}
	return nil
}

// all runs sql and returns every row; for catalog queries, whose answers
// are small.
func (p *probe) all(sql string, args ...any) (cols []string, rows [][]any, err error) {
	err = p.each(sql, args, func(c []string, row []any) bool {
		cols = c
		rows = append(rows, row)
		return true
	})
	return cols, rows, err
}

// show makes rows the ones the failure message lays out.
func (p *probe) show(caption string, cols []string, rows [][]any) {
	t := &table{caption: caption, cols: cols}
	for _, r := range rows {
		t.add(cols, r)
	}
	p.shown = t
}

func (p *probe) failed(sql string, args []any, err error) error {
	return fmt.Errorf("in database %q this query failed:\n%s\n%w",
		p.database, format.IndentString(showQuery(sql, args), 1), err)
}

// report is the part of every failure message that shows where gsql looked
// and what it found there.
func (p *probe) report() string {
	var b strings.Builder
	where := ""
	if p.inTx {
		where = " inside the open transaction"
	}
	fmt.Fprintf(&b, "In database %q%s, gsql ran:\n", p.database, where)
	for _, q := range p.ran {
		b.WriteString(format.IndentString(q, 1) + "\n")
	}
	if p.shown != nil {
		fmt.Fprintf(&b, "%s (%d %s):\n", p.shown.caption, p.shown.total, plural(p.shown.total, "row", "rows"))
		b.WriteString(p.shown.render(format.Indent))
	}
	return b.String()
}

// showQuery writes a query and its arguments the way a reader would paste
// them into psql.
func showQuery(sql string, args []any) string {
	if len(args) == 0 {
		return sql
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprintf("$%d = %s", i+1, literal(a))
	}
	return sql + "\n-- with " + strings.Join(parts, ", ")
}

func literal(a any) string {
	switch v := a.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case nil:
		return "NULL"
	default:
		return cell(normalise(v))
	}
}
