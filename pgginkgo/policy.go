package pgginkgo

import "fmt"

// The policies below are options at both levels, under the same names: a
// suite-wide default given to Suite, and an override for some specs given
// to decorators.FreshDatabase.
//
//	var _ = pgginkgo.Suite(pgginkgo.Migrations(migrations), pgginkgo.KeepNever)
//	It("leaves a connection for the server to close", decorators.FreshDatabase(pgginkgo.TerminateLeaks), func(ctx SpecContext) { … })

// KeepPolicy decides whether a spec's database survives the spec, for
// post-mortem inspection with psql.
type KeepPolicy int

const (
	// KeepOnFailure keeps the database of a failed spec (the default).
	KeepOnFailure KeepPolicy = iota
	// KeepAlways keeps every spec's database.
	KeepAlways
	// KeepNever recycles every database, failed or not.
	KeepNever
)

func (p KeepPolicy) String() string {
	switch p {
	case KeepOnFailure:
		return "KeepOnFailure"
	case KeepAlways:
		return "KeepAlways"
	case KeepNever:
		return "KeepNever"
	}
	return fmt.Sprintf("KeepPolicy(%d)", int(p))
}

func (p KeepPolicy) check() error {
	if p < KeepOnFailure || p > KeepNever {
		return fmt.Errorf("%v is not a keep policy: use KeepOnFailure, KeepAlways or KeepNever", p)
	}
	return nil
}

func (p KeepPolicy) applySuite(c *config) {
	c.keepPolicy = p
	c.addErr(p.check())
}

func (p KeepPolicy) applyDatabase(o *databaseOptions) {
	o.keep = &p
	o.addErr(p.check())
}

// LeakPolicy decides what happens to connections a spec leaves open to its
// database outside pgginkgo's pool.
type LeakPolicy int

const (
	// FailOnLeak fails the spec and names each leaked connection (default).
	FailOnLeak LeakPolicy = iota
	// TerminateLeaks terminates leaked connections without failing the spec.
	TerminateLeaks
)

func (p LeakPolicy) String() string {
	switch p {
	case FailOnLeak:
		return "FailOnLeak"
	case TerminateLeaks:
		return "TerminateLeaks"
	}
	return fmt.Sprintf("LeakPolicy(%d)", int(p))
}

func (p LeakPolicy) check() error {
	if p < FailOnLeak || p > TerminateLeaks {
		return fmt.Errorf("%v is not a leak policy: use FailOnLeak or TerminateLeaks", p)
	}
	return nil
}

func (p LeakPolicy) applySuite(c *config) {
	c.leakPolicy = p
	c.addErr(p.check())
}

func (p LeakPolicy) applyDatabase(o *databaseOptions) {
	o.leaks = &p
	o.addErr(p.check())
}

// ClusterObjectPolicy decides what happens to the cluster-wide objects a
// spec creates: roles, databases, tablespaces and ALTER SYSTEM settings.
// They live outside the spec's database, so recycling it cannot undo them,
// and every later spec of every process would see them.
type ClusterObjectPolicy int

const (
	// DropClusterObjects removes them after the spec, with a log line per
	// object (the default).
	DropClusterObjects ClusterObjectPolicy = iota
	// FailOnClusterObjects removes them too, and fails the spec with a
	// message that names them.
	FailOnClusterObjects
)

func (p ClusterObjectPolicy) String() string {
	switch p {
	case DropClusterObjects:
		return "DropClusterObjects"
	case FailOnClusterObjects:
		return "FailOnClusterObjects"
	}
	return fmt.Sprintf("ClusterObjectPolicy(%d)", int(p))
}

func (p ClusterObjectPolicy) check() error {
	if p < DropClusterObjects || p > FailOnClusterObjects {
		return fmt.Errorf("%v is not a cluster-object policy: use DropClusterObjects or FailOnClusterObjects", p)
	}
	return nil
}

func (p ClusterObjectPolicy) applySuite(c *config) {
	c.clusterObjects = p
	c.addErr(p.check())
}

func (p ClusterObjectPolicy) applyDatabase(o *databaseOptions) {
	o.objects = &p
	o.addErr(p.check())
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
