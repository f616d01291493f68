// Package bench measures pgginkgo against the baselines it replaces, on the
// same machine, binaries and cluster, in one run: embedded-postgres's boot
// and the clone-per-test method for single specs, and the real pgtestdb
// module (v0.1.1) for whole packages (./pkgsuite, run under the ginkgo CLI).
// It is a module of its own, so that pgtestdb stays out of the library's
// go.mod. Run it with `make bench`; see docs/benchmarks.md for the figures
// and how they were taken.
package bench
