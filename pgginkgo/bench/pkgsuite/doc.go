// Package pkgsuite is one "application package" of the package benchmarks:
// a Ginkgo suite whose test binary pgginkgo/bench runs as several packages
// (one copy per directory) under the ginkgo CLI, on our side or on
// pgtestdb's. Its test skips unless the bench sets PGGINKGO_BENCH_PKG_SIDE.
//
// Environment:
//
//	PGGINKGO_BENCH_PKG_SIDE        "ours" (pgginkgo.Suite + decorators.FreshDatabase) or "pgtestdb"
//	PGGINKGO_BENCH_PKG_MIGRATIONS  directory of .sql migrations
//	PGGINKGO_BENCH_PKG_SPECS       number of specs (default 20)
//	PGGINKGO_BENCH_PKG_FIRST_SPEC  file the first spec body to run writes time.Now() (Unix ns) to
//	PGGINKGO_BENCH_PKG_LOG         file pgginkgo's info log is appended to (ours)
//	PGGINKGO_BENCH_PKG_STATS       set: each process prints its pools' ProcessStats to stderr (ours)
//	PGGINKGO_BENCH_PGTESTDB_HOST, _PORT, _USER, _PASSFILE   pgtestdb's server (pgtestdb)
package pkgsuite
