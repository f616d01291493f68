package pgginkgo

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

// LeakPolicy decides what happens to connections a spec leaves open to its
// database outside pgginkgo's pool.
type LeakPolicy int

const (
	// FailOnLeak fails the spec and names each leaked connection (default).
	FailOnLeak LeakPolicy = iota
	// TerminateLeaks terminates leaked connections without failing the spec.
	TerminateLeaks
)
