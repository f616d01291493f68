package pgginkgo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pgginkgo/pgginkgo/envscope"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// DatabaseOption configures decorators.FreshDatabase: FromTemplate,
// ExportURL, and the Policy values (KeepAlways, TerminateLeaks, …), which
// override the suite's for the specs it decorates.
type DatabaseOption interface {
	applyDatabase(o *databaseOptions)
}

type databaseOptions struct {
	template string
	policies policies // the zero Policy where the suite's applies
	exports  []string // variables that get the database's URL
	errs     []error
}

type databaseOption func(*databaseOptions)

func (f databaseOption) applyDatabase(o *databaseOptions) { f(o) }

// FromTemplate picks the template FreshDatabase clones, by the name given
// to DefineTemplate; without it, the suite's first template.
//
//	Describe("checkout", Ordered, decorators.FreshDatabase(pgginkgo.FromTemplate("seeded")), func() { … })
func FromTemplate(name string) DatabaseOption {
	return databaseOption(func(o *databaseOptions) {
		if err := template.ValidateTemplateName(name); err != nil {
			o.addErr(fmt.Errorf("FromTemplate(%q): %w", name, err))
			return
		}
		o.template = name
	})
}

// ExportURL sets the environment variable name to the database's URL in
// every node that sees the database, and puts back what was there after
// each one, for code that reads its DSN from the environment:
//
//	Describe("signup", decorators.FreshDatabase(pgginkgo.ExportURL("DATABASE_URL")), func() {
//		It("stores the user", func(ctx SpecContext) {
//			Expect(app.Open(os.Getenv("DATABASE_URL"))).To(Succeed())
//		})
//	})
//
// The URL names the passfile and holds no password (see Database.URL).
// PGDATABASE needs no option: FreshDatabase sets it to the database's name
// whenever the suite exports PG* variables.
func ExportURL(name string) DatabaseOption {
	return databaseOption(func(o *databaseOptions) {
		switch err := envscope.Validate(envscope.Set(name, "")); {
		case err != nil:
			o.addErr(fmt.Errorf("ExportURL(%q): %w", name, err))
		case name == "PGDATABASE":
			o.addErr(fmt.Errorf("ExportURL(%q): FreshDatabase sets PGDATABASE to the database's name already; export the URL under the name your code reads, such as DATABASE_URL", name))
		default:
			o.exports = append(o.exports, name)
		}
	})
}

var decoratorSeq atomic.Int64

// decorator is one FreshDatabase, as written in the spec tree.
type decorator struct {
	id   int64
	at   types.CodeLocation // where FreshDatabase was called
	opts databaseOptions
	// parent is the container path FreshDatabase was called in, so the
	// node it decorates is one level below. A decorator made outside the
	// tree and stored in a variable has an empty path, and fails the
	// check of placement against where it was written.
	parent []types.CodeLocation
}

// placement is what a decorator is on, for one spec.
type placement int

const (
	placedUnknown   placement = iota // a decorator value reused elsewhere
	placedOnIt                       // the spec's It: that node alone
	placedContainer                  // a container: every node inside it
)

// FreshDatabaseAround is the function behind decorators.FreshDatabase: an
// AroundNode body that gives every spec it decorates a database of its
// own, or one database to the specs of an Ordered container, reachable
// with DB(ctx), named by PGDATABASE and exported under ExportURL's names.
// at is where the user wrote the decorator, for messages. Use the
// decorator; this exists so that the decorators package stays a thin
// layer.
func FreshDatabaseAround(at types.CodeLocation, opts ...DatabaseOption) func(ctx context.Context, body func(context.Context)) {
	d := &decorator{id: decoratorSeq.Add(1), at: at, parent: constructionPath()}
	for _, opt := range opts {
		if opt == nil {
			d.opts.addErr(errors.New("an option is nil"))
			continue
		}
		opt.applyDatabase(&d.opts)
	}
	if outer := written.enclosing(d); outer != nil {
		// Ginkgo reports a panic in a container's body as a failure to
		// build the tree, at that container: the run stops before any
		// spec, which is the earliest this mistake can be told.
		panic(nestedMessage(d, outer))
	}
	written.register(d)
	return d.around
}

// constructionPath is the container path being built; empty at the top
// level and outside the tree's construction (where Ginkgo panics rather
// than answer).
func constructionPath() (path []types.CodeLocation) {
	defer func() {
		if recover() != nil {
			path = []types.CodeLocation{} // a top-level node, or a variable
		}
	}()
	path = []types.CodeLocation{}
	for _, l := range ginkgo.CurrentTreeConstructionNodeReport().ContainerHierarchyLocations {
		if l.FileName != "" { // the tree's root, which no spec report lists
			path = append(path, l)
		}
	}
	return path
}

type boundKey struct{}

func (d *decorator) around(ctx context.Context, body func(context.Context)) {
	if err := errors.Join(d.opts.errs...); err != nil {
		ginkgo.Fail(fmt.Sprintf("decorators.FreshDatabase at %s: %v", d.at, err))
	}
	if outer, ok := ctx.Value(boundKey{}).(*decorator); ok {
		if node, _ := runningNode(ginkgo.CurrentSpecReport()); node.Is(types.NodeTypeCleanupAfterEach | types.NodeTypeCleanupAfterAll) {
			// Reported by the node that registered this cleanup; let the
			// outer decorator's cleanup release its database.
			body(ctx)
			return
		}
		ginkgo.Fail(nestedMessage(d, outer))
	}
	b := bind(ctx, d)
	ctx = context.WithValue(WithDB(ctx, b.db), boundKey{}, d)
	if changes := d.envChanges(b.db); len(changes) > 0 {
		scope, err := nestedEnv(ctx, changes...)
		if err != nil {
			ginkgo.Fail(fmt.Sprintf("decorators.FreshDatabase: exporting the database: %v", err))
		}
		defer func() {
			if err := scope.Restore(); err != nil {
				ginkgo.Fail("decorators.FreshDatabase: restoring the environment: " + err.Error())
			}
		}()
		ctx = envscope.WithScope(ctx, scope)
	}
	prev := specs.current.Swap(b)
	defer specs.current.Store(prev)
	body(ctx)
}

// envChanges are what the spec's nodes see: PGDATABASE when the suite
// exports PG* variables, and the URL under every ExportURL name.
func (d *decorator) envChanges(db *Database) []envscope.Change {
	var changes []envscope.Change
	if suiteState.scope != nil {
		changes = append(changes, envscope.Set("PGDATABASE", db.name))
	}
	for _, name := range d.opts.exports {
		changes = append(changes, envscope.Set(name, db.url))
	}
	return changes
}

// nestedEnv applies changes under the scope ctx carries, else under the
// suite's (which holds PG*), so that the process-wide lock is never taken
// twice by one owner; a root scope when there is neither.
func nestedEnv(ctx context.Context, changes ...envscope.Change) (*envscope.Scope, error) {
	parent := envscope.FromContext(ctx)
	if parent == nil {
		parent = suiteState.scope
	}
	if parent != nil {
		return parent.Apply(changes...)
	}
	return envscope.ApplyContext(ctx, changes...)
}

// EnvAround is the function behind decorators.Env: it applies changes for
// the node it wraps, nested under the spec's and the suite's scopes, and
// restores them after it, passed, failed or panicked.
func EnvAround(changes ...envscope.Change) func(ctx context.Context, body func(context.Context)) {
	// Validated once, so a typo fails the first spec that uses it rather
	// than leaving a half-applied environment.
	invalid := envscope.Validate(changes...)
	return func(ctx context.Context, body func(context.Context)) {
		if invalid != nil {
			ginkgo.Fail("decorators.Env: " + invalid.Error())
		}
		scope, err := nestedEnv(ctx, changes...)
		if err != nil {
			ginkgo.Fail("decorators.Env: " + err.Error())
		}
		defer func() {
			if err := scope.Restore(); err != nil {
				ginkgo.Fail("decorators.Env: restoring: " + err.Error())
			}
		}()
		body(envscope.WithScope(ctx, scope))
	}
}

func nestedMessage(inner, outer *decorator) string {
	where := fmt.Sprintf("decorators.FreshDatabase at %s is inside another FreshDatabase (at %s)", inner.at, outer.at)
	if inner == outer {
		where = fmt.Sprintf("the decorators.FreshDatabase made at %s is used on a container and again inside it", inner.at)
	}
	return where + `: a spec gets one database, and with two its container's nodes would see one and the inner nodes another.
Put FreshDatabase in one place: on the container, so that BeforeEach, It and AfterEach all see the database, or on the It alone. To clone another template for some specs, give them a container of their own with FreshDatabase(pgginkgo.FromTemplate(...)).`
}

// placement says what d is on for the spec r is the report of: the node one
// level below the container path d was made in, checked against where d
// was written, which must lie between that node's line and its first
// child's.
func (d *decorator) placement(r types.SpecReport) (placement, int) {
	c, depth := r.ContainerHierarchyLocations, len(d.parent)
	if depth > len(c) || !slices.EqualFunc(d.parent, c[:depth], sameLocation) {
		return placedUnknown, 0
	}
	if depth == len(c) {
		if leaf := r.LeafNodeLocation; leaf.FileName == d.at.FileName && leaf.LineNumber <= d.at.LineNumber {
			return placedOnIt, depth
		}
		return placedUnknown, 0
	}
	node, next := c[depth], r.LeafNodeLocation
	if depth+1 < len(c) {
		next = c[depth+1]
	}
	if node.FileName != d.at.FileName || d.at.LineNumber < node.LineNumber ||
		(next.FileName == node.FileName && d.at.LineNumber > next.LineNumber) {
		return placedUnknown, 0
	}
	return placedContainer, depth
}

func sameLocation(a, b types.CodeLocation) bool {
	return a.FileName == b.FileName && a.LineNumber == b.LineNumber
}

// key names the database a spec of r binds: one per spec and attempt, or,
// in an Ordered container, one for every spec the decorated container
// holds, since they run one after the other on one process.
func (d *decorator) key(r types.SpecReport) (key string, ordered bool) {
	where, depth := d.placement(r)
	containers := r.ContainerHierarchyLocations
	if where == placedContainer {
		containers = containers[:depth+1]
	}
	names := make([]string, len(containers))
	for i, l := range containers {
		names[i] = l.String()
	}
	base := fmt.Sprintf("%d|%s", d.id, strings.Join(names, ";"))
	if r.IsInOrderedContainer && where != placedOnIt {
		return base, true
	}
	// Every attempt of FlakeAttempts / MustPassRepeatedly is a new key, and
	// so gets a fresh database.
	return fmt.Sprintf("%s|%s|%s|%d", base, r.LeafNodeLocation, r.LeafNodeText, r.NumAttempts), false
}

// written holds every FreshDatabase by where it was written: to tell, as
// the tree is built, that one sits inside another, and so that a setup
// node that finds no database can name the one on its spec's It.
var written decoratorIndex

type decoratorIndex struct {
	mu   sync.Mutex
	byAt map[string][]*decorator
}

func (ds *decoratorIndex) register(d *decorator) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.byAt == nil {
		ds.byAt = map[string][]*decorator{}
	}
	k := d.at.String()
	ds.byAt[k] = append(ds.byAt[k], d)
}

// enclosing returns a FreshDatabase written on the line of a container
// that holds the place d is built in, and built in that container's
// parent: d would sit inside it. Only the same line counts, so that a
// decorator kept in a variable is never taken for one on a container; the
// first node catches those.
func (ds *decoratorIndex) enclosing(d *decorator) *decorator {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for i, container := range d.parent {
		for _, outer := range ds.byAt[container.String()] {
			if len(outer.parent) == i && slices.EqualFunc(outer.parent, d.parent[:i], sameLocation) {
				return outer
			}
		}
	}
	return nil
}

// onIt returns a FreshDatabase written on the line of r's It, made in the
// container r is in.
func (ds *decoratorIndex) onIt(r types.SpecReport) *decorator {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for _, d := range ds.byAt[r.LeafNodeLocation.String()] {
		if where, _ := d.placement(r); where == placedOnIt {
			return d
		}
	}
	return nil
}
