package pgginkgo

import "errors"

// Policy is one choice about what happens after a spec: whether its
// database is kept, what becomes of the connections it left open, and of
// the cluster-wide objects it created. Each value is an option at both
// levels, under the same name: the suite's default given to Suite, and an
// override for some specs given to decorators.FreshDatabase.
//
//	var _ = pgginkgo.Suite(pgginkgo.Migrations(migrations), pgginkgo.KeepNever)
//	It("leaves a connection for the server to close", decorators.FreshDatabase(pgginkgo.TerminateLeaks), func(ctx SpecContext) { … })
//
// Use the values declared with it; the zero Policy is no policy, and an
// error.
type Policy struct {
	aspect aspect
	name   string
}

// aspect is what a Policy decides.
type aspect int

const (
	keepAspect aspect = iota + 1
	leakAspect
	objectsAspect
)

// Whether a spec's database survives the spec, for post-mortem inspection
// with psql (section 6 of the user's guide).
var (
	// KeepOnFailure keeps the database of a failed spec (the default).
	KeepOnFailure Policy = Policy{keepAspect, "KeepOnFailure"}
	// KeepAlways keeps every spec's database.
	KeepAlways Policy = Policy{keepAspect, "KeepAlways"}
	// KeepNever recycles every database, failed or not.
	KeepNever Policy = Policy{keepAspect, "KeepNever"}
)

// What happens to connections a spec leaves open to its database outside
// pgginkgo's pool.
var (
	// FailOnLeak fails the spec and names each leaked connection (the
	// default); pgginkgo terminates them either way.
	FailOnLeak Policy = Policy{leakAspect, "FailOnLeak"}
	// TerminateLeaks terminates leaked connections without failing the spec.
	TerminateLeaks Policy = Policy{leakAspect, "TerminateLeaks"}
)

// What happens to the cluster-wide objects a spec creates: roles,
// databases, tablespaces and ALTER SYSTEM settings. They live outside the
// spec's database, so recycling it cannot undo them, and every later spec
// of every process would see them.
var (
	// DropClusterObjects removes them after the spec, with a log line per
	// object (the default).
	DropClusterObjects Policy = Policy{objectsAspect, "DropClusterObjects"}
	// FailOnClusterObjects removes them too, and fails the spec with a
	// message that names them.
	FailOnClusterObjects Policy = Policy{objectsAspect, "FailOnClusterObjects"}
)

// String is the policy's name, as it is written in Go.
func (p Policy) String() string {
	if p.name == "" {
		return "Policy{}"
	}
	return p.name
}

func (p Policy) applySuite(c *config)             { c.addErr(c.policies.set(p)) }
func (p Policy) applyDatabase(o *databaseOptions) { o.addErr(o.policies.set(p)) }

// policies holds one Policy per aspect; a zero one is unset (a spec then
// follows the suite).
type policies struct {
	keep, leaks, objects Policy
}

func defaultPolicies() policies {
	return policies{keep: KeepOnFailure, leaks: FailOnLeak, objects: DropClusterObjects}
}

func (ps *policies) set(p Policy) error {
	switch p.aspect {
	case keepAspect:
		ps.keep = p
	case leakAspect:
		ps.leaks = p
	case objectsAspect:
		ps.objects = p
	default:
		return errors.New("Policy{} is no policy: use one of pgginkgo's values, such as KeepAlways or TerminateLeaks")
	}
	return nil
}

// over returns ps, with the suite's policy where ps has none.
func (ps policies) over(suite policies) policies {
	if ps.keep == (Policy{}) {
		ps.keep = suite.keep
	}
	if ps.leaks == (Policy{}) {
		ps.leaks = suite.leaks
	}
	if ps.objects == (Policy{}) {
		ps.objects = suite.objects
	}
	return ps
}

func (c *config) addErr(err error) {
	if err != nil {
		c.errs = append(c.errs, err)
	}
}

func (o *databaseOptions) addErr(err error) {
	if err != nil {
		o.errs = append(o.errs, err)
	}
}
