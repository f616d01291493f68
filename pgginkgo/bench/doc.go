// Package bench measures pgginkgo against the baselines it replaces, on the
// same machine, binaries and cluster, in one run. Run it with `make bench`;
// see docs/benchmarks.md for the figures and how they were taken.
package bench
