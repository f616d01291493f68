package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

var doctorCommand = &command{
	name:     "doctor",
	synopsis: "[--version V] [--cache-dir D]",
	summary:  "check this machine: binaries, account, cache, /dev/shm, connection budget; each problem with its fix",
	details: `
Prints which PostgreSQL binaries a suite would use and every source tried on
the way, the account PostgreSQL runs as, the cache directory with its images
and their sizes, the free space in /dev/shm, and how many parallel processes
the connection budget allows. Each problem comes with its fix; doctor exits
1 when it found any, 0 otherwise. It never downloads: binaries a suite would
download are reported as missing, with the ways to get them.`,
	setup: setupDoctor,
}

// The message the binaries resolver logs once per source it tries.
const triedSource = "pgginkgo binaries: tried a source"

// attempt is one "tried a source" record.
type attempt struct{ source, path, outcome, duration string }

// attemptLog is a slog.Handler that keeps the binaries resolver's attempts
// and drops every other record.
type attemptLog struct {
	mu       *sync.Mutex
	attempts *[]attempt
}

func newAttemptLog() attemptLog { return attemptLog{mu: &sync.Mutex{}, attempts: &[]attempt{}} }

func (h attemptLog) Enabled(context.Context, slog.Level) bool { return true }

func (h attemptLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != triedSource {
		return nil
	}
	var a attempt
	r.Attrs(func(at slog.Attr) bool {
		switch at.Key {
		case "source":
			a.source = at.Value.String()
		case "path":
			a.path = at.Value.String()
		case "outcome":
			a.outcome = at.Value.String()
		case "duration":
			a.duration = at.Value.String()
		}
		return true
	})
	h.mu.Lock()
	*h.attempts = append(*h.attempts, a)
	h.mu.Unlock()
	return nil
}

func (h attemptLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h attemptLog) WithGroup(string) slog.Handler      { return h }

func (h attemptLog) list() []attempt {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]attempt(nil), *h.attempts...)
}

// report prints doctor's sections and counts the problems.
type report struct {
	w        io.Writer
	problems int
}

func (r *report) section(name string) { fmt.Fprintf(r.w, "\n%s\n", name) }

func (r *report) line(format string, a ...any) { fmt.Fprintf(r.w, "  "+format+"\n", a...) }

// problem prints what is wrong and, on its own line, how to fix it.
func (r *report) problem(what, fix string) {
	r.problems++
	fmt.Fprintf(r.w, "  PROBLEM: %s\n  fix: %s\n", what, fix)
}

func setupDoctor(fs *flag.FlagSet) func(context.Context, *cli) error {
	var o common
	o.cacheFlags(fs)
	o.binaryFlags(fs)
	return func(ctx context.Context, c *cli) error {
		if err := o.check(); err != nil {
			return err
		}
		r := &report{w: c.stdout}
		fmt.Fprintf(c.stdout, "pgginkgo doctor: what a suite on this machine would use\n")
		env, envErr := pgginkgo.Inspect(o.suiteOptions()...)
		bin, binOK := doctorBinaries(ctx, r, &o)
		// The account is printed below, but the binaries' section is the
		// place to say that it cannot run them.
		var uid, gid uint32
		acctOK := false
		if envErr == nil {
			uid, gid, acctOK = accountIDs(env)
		}
		if binOK && acctOK && os.Geteuid() == 0 {
			if blocked := unreachable(filepath.Join(bin.BinDir, "postgres"), uid, gid); blocked != "" {
				r.problem(fmt.Sprintf("PostgreSQL runs as %s, which cannot reach %s (blocked at %s)", env.Account, filepath.Join(bin.BinDir, "postgres"), blocked),
					"install PostgreSQL somewhere every account can read (apt-get install postgresql, or under /opt), chmod o+rx the directories on the way, or pass --run-as with an account that can")
			} else {
				r.line("runnable by %s: yes", env.Account)
			}
		}
		doctorAccount(r, env, envErr, acctOK)
		if envErr == nil {
			doctorCache(r, &o, env, uid, gid, acctOK)
		}
		doctorShm(r, env, envErr)
		if envErr == nil {
			doctorBudget(r, env)
		}
		fmt.Fprintln(c.stdout)
		switch r.problems {
		case 0:
			fmt.Fprintln(c.stdout, "no problems found")
			return nil
		case 1:
			fmt.Fprintln(c.stdout, "1 problem found; its fix is above")
		default:
			fmt.Fprintf(c.stdout, "%d problems found; each fix is above\n", r.problems)
		}
		return errProblems
	}
}

func doctorBinaries(ctx context.Context, r *report, o *common) (pgginkgo.BinariesInfo, bool) {
	r.section("binaries")
	attempts := newAttemptLog()
	// Offline: doctor reports, it does not download; an earlier download
	// is still found.
	opts := append(o.options(), pgginkgo.Offline(), pgginkgo.Logger(slog.New(attempts)))
	bin, err := pgginkgo.FindBinaries(ctx, opts...)
	for _, a := range attempts.list() {
		where := a.source
		if a.path != "" && !strings.Contains(a.source, a.path) && !strings.Contains(a.outcome, a.path) {
			where += " " + a.path
		}
		took := ""
		if a.duration != "" && a.duration != "0s" {
			took = " (" + a.duration + ")"
		}
		r.line("tried  %s: %s%s", where, a.outcome, took)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			r.problem("interrupted while looking for binaries", "run doctor again")
			return bin, false
		}
		msg := strings.TrimPrefix(err.Error(), "pgginkgo: ")
		// The resolver's errors are typed in an internal package; their
		// wording is what tells them apart here.
		switch {
		case strings.HasPrefix(msg, "unsupported PostgreSQL version"):
			what, _, _ := strings.Cut(msg, ": pass")
			r.problem(what, "pass --version with a supported major (as pgginkgo.Version in the suite), or leave it out to use any installed version")
		case strings.HasPrefix(msg, "invalid PostgreSQL binaries directory"):
			what, _, _ := strings.Cut(strings.TrimPrefix(msg, "invalid PostgreSQL binaries directory: "), "; it must be")
			r.problem(what, "point --binaries here, and PGGINKGO_BINARIES or pgginkgo.BinariesPath in the suite, at a PostgreSQL installation root holding bin/postgres, bin/pg_ctl and bin/initdb (e.g. /usr/lib/postgresql/15) or at that bin directory; or unset them to let pgginkgo find an installed server")
		default:
			what, _, _ := strings.Cut(msg, "; tried:")
			r.problem(what+" on this machine (doctor does not download; a suite would try to)",
				"install a server (apt-get install postgresql"+majorSuffix(o.version)+"), or point PGGINKGO_BINARIES at one, or download it now with `pgginkgo prepare --migrations DIR"+versionFlag(o.version)+"` (needs network access to Maven Central, or --repository for a mirror)")
		}
		return bin, false
	}
	r.line("using  %s: PostgreSQL %s, found by %s", bin.BinDir, bin.Version, bin.Source)
	return bin, true
}

func majorSuffix(version string) string {
	if major, _, _ := strings.Cut(version, "."); major != "" {
		return "-" + major
	}
	return ""
}

func versionFlag(version string) string {
	if version == "" {
		return ""
	}
	return " --version " + version
}

// accountIDs returns the uid and primary gid PostgreSQL runs with.
func accountIDs(env pgginkgo.Environment) (uid, gid uint32, ok bool) {
	if os.Geteuid() != 0 {
		return uint32(max(env.UID, 0)), 0, true
	}
	g, ok := groupOf(env.UID)
	return uint32(env.UID), g, ok
}

func doctorAccount(r *report, env pgginkgo.Environment, err error, found bool) {
	r.section("account")
	switch {
	case err != nil:
		msg := strings.TrimPrefix(err.Error(), "pgginkgo: ")
		if strings.Contains(msg, "does not exist") {
			r.problem(firstClause(msg), "create the account (useradd --system --no-create-home pgtest), then pass --run-as pgtest here and pgginkgo.RunAs(\"pgtest\") in the suite; or run the tests as a normal user")
		} else {
			r.problem(msg, "pass --run-as with an unprivileged account, or run as a normal user")
		}
		r.line("the cache and the connection budget are not checked until the account is fixed")
	case os.Geteuid() != 0:
		r.line("PostgreSQL runs as you: %s (uid %d)", env.Account, env.UID)
	case !found:
		r.problem(fmt.Sprintf("PostgreSQL would run as uid %d, which has no entry in the user database", env.UID), "create the account, or pass --run-as with one that exists")
	default:
		r.line("PostgreSQL runs as %s (uid %d): this process is root, and PostgreSQL refuses root (--run-as or pgginkgo.RunAs picks another account)", env.Account, env.UID)
	}
}

// firstClause keeps what an error says is wrong, not the fix the library
// words for its own options.
func firstClause(msg string) string {
	if i := strings.Index(msg, "; "); i > 0 {
		return msg[:i]
	}
	return msg
}

func doctorCache(r *report, o *common, env pgginkgo.Environment, uid, gid uint32, acctOK bool) {
	r.section("cache")
	dir := env.CacheDir
	st, err := os.Stat(dir)
	existing := dir
	switch {
	case err == nil && !st.IsDir():
		r.line("directory  %s", dir)
		r.problem(dir+" is a file, not a directory", "remove it, or pass --cache-dir here and pgginkgo.CacheDir (or PGGINKGO_CACHE_DIR) in the suite")
		return
	case err == nil:
		r.line("directory  %s", dir)
	case errors.Is(err, os.ErrNotExist):
		existing = nearestExisting(dir)
		r.line("directory  %s (does not exist yet; the first prepare or suite run creates it in %s)", dir, existing)
	default:
		r.line("directory  %s", dir)
		r.problem(fmt.Sprintf("cannot read the cache directory: %v", plainErr(err)), "fix its permissions, or pass --cache-dir and pgginkgo.CacheDir / PGGINKGO_CACHE_DIR")
		return
	}
	if werr := probeWritable(existing); werr != nil {
		r.problem(fmt.Sprintf("the cache directory is not writable: %s: %v", existing, plainErr(werr)),
			"make it writable for this user (chown or chmod), or pass --cache-dir here and pgginkgo.CacheDir or PGGINKGO_CACHE_DIR in the suite with a writable directory")
	} else {
		r.line("writable   yes")
	}
	if os.Geteuid() == 0 && acctOK {
		if blocked := unreachable(existing, uid, gid); blocked != "" {
			r.problem(fmt.Sprintf("PostgreSQL runs as %s, which cannot enter %s (blocked at %s)", env.Account, dir, blocked),
				fmt.Sprintf("chmod o+x %s, or use a cache directory every account can traverse (the default /var/cache/pgginkgo), with --cache-dir and pgginkgo.CacheDir / PGGINKGO_CACHE_DIR", blocked))
		} else {
			r.line("enterable  yes, by %s", env.Account)
		}
	}
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv("PGGINKGO_IMAGE"))); v {
	case "", "on", "1", "true", "yes":
	case "off", "0", "false", "no":
		r.line("bypassed   PGGINKGO_IMAGE=%s: suites apply their migrations in their own cluster, and prepare refuses", os.Getenv("PGGINKGO_IMAGE"))
	default:
		r.problem(fmt.Sprintf("PGGINKGO_IMAGE=%q is neither on nor off, so every suite fails at its start", os.Getenv("PGGINKGO_IMAGE")), "set PGGINKGO_IMAGE=off to bypass the images, or unset it")
	}
	list, err := pgginkgo.ListImages(o.options()...)
	if err != nil {
		r.line("images     %s", env.ImageDir)
		r.problem(strings.TrimPrefix(err.Error(), "pgginkgo: "), "fix the permissions of the image directory (it belongs to the account PostgreSQL runs as), or remove it: it is only a cache")
		return
	}
	if len(list) == 0 {
		r.line("images     none in %s", env.ImageDir)
		return
	}
	r.line("images     %s in %s (eviction keeps %d images, %s)", countImages(list), env.ImageDir, defaultMaxImages, formatSize(defaultMaxBytes))
	for _, i := range list {
		use := ""
		if i.InUse {
			use = ", in use"
		}
		r.line("  %s  %s  %d files  templates %s  last used %s%s", i.Key, pgginkgo.FormatBytes(i.Bytes), i.Files, strings.Join(i.Templates, ","), ago(i.LastUsed), use)
	}
}

// nearestExisting is dir or its closest ancestor that exists.
func nearestExisting(dir string) string {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			return d
		}
	}
}

// probeWritable creates and removes a file in dir.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".pgginkgo-doctor-")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

const minShmFree = 1 << 30

func doctorShm(r *report, env pgginkgo.Environment, envErr error) {
	r.section("/dev/shm")
	shm, relevant := statShm()
	runtimeDir := ""
	if envErr == nil {
		runtimeDir = env.RuntimeDir
	}
	where := func() {
		if runtimeDir != "" {
			r.line("clusters   %s", runtimeDir)
		}
	}
	fix := "give the container a larger /dev/shm (docker run --shm-size=2g; Compose: shm_size: 2gb; Kubernetes: an emptyDir with medium: Memory mounted at /dev/shm), or pass pgginkgo.RuntimeDir with a tmpfs directory"
	switch {
	case !relevant:
		r.line("not used on this system: clusters run in the temporary directory")
		where()
	case shm.err != nil:
		r.line("/dev/shm   absent (%v)", plainErr(shm.err))
		where()
		r.problem("/dev/shm is missing, so clusters run on disk, where every boot creates its files several times slower", "mount a tmpfs at /dev/shm (mount -t tmpfs -o size=2g tmpfs /dev/shm), or "+fix)
	case !shm.tmpfs:
		r.line("/dev/shm   %s free, but not a tmpfs", pgginkgo.FormatBytes(shm.free))
		where()
		r.problem("/dev/shm is not a tmpfs, so pgginkgo does not use it and clusters run on disk, several times slower to boot", "mount a tmpfs at /dev/shm (mount -t tmpfs -o size=2g tmpfs /dev/shm), or pass pgginkgo.RuntimeDir with a tmpfs directory")
	case shm.free < minShmFree:
		r.line("/dev/shm   tmpfs, %s free of %s", pgginkgo.FormatBytes(shm.free), pgginkgo.FormatBytes(shm.total))
		where()
		r.problem(fmt.Sprintf("/dev/shm has %s free, less than the 1 GiB pgginkgo needs to use it, so clusters run on disk, several times slower to boot", pgginkgo.FormatBytes(shm.free)), fix)
	default:
		r.line("/dev/shm   tmpfs, %s free of %s", pgginkgo.FormatBytes(shm.free), pgginkgo.FormatBytes(shm.total))
		where()
	}
}

func doctorBudget(r *report, env pgginkgo.Environment) {
	r.section("connection budget")
	want := ginkgoProcs()
	r.line("max_connections up to %d, %d per process (two per prefetched database, the admin and spec pools, headroom): room for %d parallel processes", env.MaxConnections, env.PerProcess, env.Processes)
	r.line("ginkgo -p starts %d processes on this machine", want)
	if env.Processes < want {
		need := want*env.PerProcess + 10
		r.problem(fmt.Sprintf("the budget allows %d parallel processes, fewer than the %d ginkgo -p starts here", env.Processes, want),
			fmt.Sprintf("run ginkgo with --procs=%d, or give the suite pgginkgo.Setting(\"max_connections\", \"%d\") or a smaller pgginkgo.Prefetch", max(env.Processes, 1), need))
	}
}
