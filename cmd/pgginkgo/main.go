// Command pgginkgo prepares and inspects what pgginkgo caches on a machine:
// the PostgreSQL binaries, the initdb cache and the migrated images that let
// a suite boot with its templates already migrated.
//
// Run it from the module that uses pgginkgo, with no install:
//
//	go run github.com/pgginkgo/pgginkgo/cmd/pgginkgo <command> [flags]
//
// The commands:
//
//	prepare --migrations DIR [--version 16] [--procs N] [--cache-dir D] [--offline] [--repository URL]
//
// resolves (or downloads) the binaries, then builds the initdb cache and
// the migrated image that pgginkgo.Suite(pgginkgo.Migrations(os.DirFS(DIR)))
// would boot from, and prints the image's key, size and file count, and
// whether it was built now or was already there. It is meant for CI
// warm-up steps and Docker layers: a later test run on the same cache
// directory applies no migration. --procs is the most parallel processes
// the suite runs with (default: what ginkgo -p uses on this machine); an
// image prepared for more processes also serves fewer. The image matches a
// suite that passes Migrations(DIR) and otherwise default options (the
// same --version); a suite with other templates, settings or a superuser
// of its own builds its own image at its first run.
//
//	doctor [--version V] [--cache-dir D]
//
// prints which binaries a suite would use and every source tried on the
// way, the account PostgreSQL runs as, the cache directory with its images
// and their sizes, the free space in /dev/shm, and how many parallel
// processes the connection budget allows. Every problem it finds comes
// with its fix, and it exits 1 when it found any. doctor never downloads.
//
//	ls [--cache-dir D]
//
// lists the images: key, PostgreSQL version, templates, size, files, when
// each was created and last used, and whether a running suite uses it.
//
//	gc [--all] [--max-images N] [--max-bytes SIZE] [--cache-dir D]
//
// removes what eviction would remove: the least recently used images beyond
// the limits (defaults 5 images, 2 GiB). --all removes every image that no
// running suite uses. SIZE is a number of bytes, or a number with a unit:
// 512MiB, 2GiB, 1G (K, M, G, T and KiB, MiB, GiB, TiB are powers of 1024;
// KB, MB, GB, TB powers of 1000).
//
//	gc --server URL [--kept 24h] [--templates 168h]
//
// sweeps an existing server instead: it drops what killed runs left, kept
// databases older than --kept and templates unused for --templates (Go
// durations, or days: 7d). --kept or --templates alone use PGGINKGO_SERVER_URL.
//
// A CI warm-up step, or a Dockerfile layer after COPY migrations/, is one
// line; cache the cache directory between jobs to keep the image:
//
//	go run github.com/pgginkgo/pgginkgo/cmd/pgginkgo prepare --migrations ./migrations --version 16
//
// prepare and doctor also take --binaries DIR, as pgginkgo.BinariesPath or
// PGGINKGO_BINARIES. Every command takes --run-as NAME, the account PostgreSQL runs as
// when pgginkgo runs as root (default nobody), because the images live in
// that account's part of the cache. The cache directory defaults, as for
// a suite, to PGGINKGO_CACHE_DIR, else /var/cache/pgginkgo for root, else
// the user's cache directory (~/.cache/pgginkgo). prepare logs warnings to
// stderr; -v, or PGGINKGO_LOG_LEVEL=info or debug, shows every step.
//
// Exit status: 0 on success, 1 when a command failed or doctor found a
// problem, 2 for a usage error (an unknown command or flag, a bad value, a
// missing directory).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	programName = "pgginkgo"
)

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// errProblems is doctor's way of saying it found problems, which it has
// already printed with their fixes.
var errProblems = errors.New("problems found")

// cli is one invocation: where output goes.
type cli struct {
	stdout, stderr io.Writer
}

// command is one subcommand.
type command struct {
	name     string
	synopsis string // flags, for the usage line
	summary  string // one line, for the command list
	details  string // paragraphs for `pgginkgo help <command>`
	// setup defines the command's flags on fs and returns what runs once
	// they are parsed.
	setup func(fs *flag.FlagSet) func(ctx context.Context, c *cli) error
}

// commands, in the order the usage lists them.
var commands = []*command{prepareCommand, doctorCommand, lsCommand, gcCommand}

func lookup(name string) (*command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return nil, false
}

func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first Ctrl-C stops the cluster and removes it; a second one
		// kills at once, as usual.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		c.usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			c.usage(stdout)
			return exitOK
		}
		cmd, ok := lookup(rest[0])
		if !ok {
			return c.fail("", unknownCommand(rest[0]))
		}
		fs := newFlagSet(cmd)
		cmd.setup(fs)
		cmd.help(stdout, fs)
		return exitOK
	}
	cmd, ok := lookup(name)
	if !ok {
		return c.fail("", unknownCommand(name))
	}
	fs := newFlagSet(cmd)
	action := cmd.setup(fs)
	if err := parse(fs, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cmd.help(stdout, fs)
			return exitOK
		}
		return c.fail(cmd.name, err)
	}
	return c.fail(cmd.name, action(ctx, c))
}

// fail prints err, if any, and maps it to an exit status.
func (c *cli) fail(cmd string, err error) int {
	if err == nil {
		return exitOK
	}
	prefix := programName
	if cmd != "" {
		prefix += " " + cmd
	}
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "%s: %s\n", prefix, ue.msg)
		if cmd != "" {
			fmt.Fprintf(c.stderr, "Run '%s help %s' for its flags.\n", programName, cmd)
		} else {
			fmt.Fprintf(c.stderr, "Run '%s help' for the commands.\n", programName)
		}
		return exitUsage
	case errors.Is(err, errProblems):
		return exitFailed
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(c.stderr, "%s: interrupted\n", prefix)
		return exitFailed
	}
	fmt.Fprintf(c.stderr, "%s: %s\n", prefix, strings.TrimPrefix(err.Error(), "pgginkgo: "))
	return exitFailed
}

func unknownCommand(name string) error {
	if strings.HasPrefix(name, "-") {
		return usagef("flag %s comes before any command; name a command first (%s)", name, strings.Join(commandNames(), ", "))
	}
	return usagef("unknown command %q; the commands are %s", name, strings.Join(commandNames(), ", "))
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintf(w, "%s prepares and inspects pgginkgo's cache of PostgreSQL binaries and migrated images.\n\n", programName)
	fmt.Fprintf(w, "Usage:\n\n\tgo run github.com/pgginkgo/pgginkgo/cmd/pgginkgo <command> [flags]\n\nThe commands are:\n\n")
	for _, cmd := range commands {
		fmt.Fprintf(w, "\t%-8s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "\nRun '%s help <command>' (or '%s <command> -h') for a command's flags.\n", programName, programName)
	fmt.Fprintf(w, "Exit status: 0 success, 1 failure (or problems found by doctor), 2 usage error.\n")
}

func newFlagSet(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(programName+" "+cmd.name, flag.ContinueOnError)
	// Errors are printed by fail, with what to do; help by command.help.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func (cmd *command) help(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s %s %s\n\n%s\n\n%s\n\nFlags:\n", programName, cmd.name, cmd.synopsis, cmd.summary, strings.TrimSpace(cmd.details))
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// common holds the flags several commands share and turns them into
// pgginkgo options.
type common struct {
	cacheDir, runAs, version, binaries, repository string
	offline                                        bool
}

func (o *common) cacheFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.cacheDir, "cache-dir", "", "the cache directory (default: PGGINKGO_CACHE_DIR, else /var/cache/pgginkgo for root, else ~/.cache/pgginkgo)")
	fs.StringVar(&o.runAs, "run-as", "", "the account PostgreSQL runs as when this runs as root (default nobody); the images live in its part of the cache")
}

func (o *common) binaryFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.version, "version", "", "the PostgreSQL major (16) or full (16.4.0) version, as pgginkgo.Version (default: any installed, else the newest embedded-postgres knows)")
	fs.StringVar(&o.binaries, "binaries", "", "a PostgreSQL installation to use, as pgginkgo.BinariesPath or PGGINKGO_BINARIES")
}

func (o *common) downloadFlags(fs *flag.FlagSet) {
	fs.BoolVar(&o.offline, "offline", false, "never download binaries: use explicit, installed or already downloaded ones (pgginkgo.Offline)")
	fs.StringVar(&o.repository, "repository", "", "the Maven repository to download binaries from, for a mirror (pgginkgo.RepositoryURL)")
}

// check validates what the options cannot: that directories exist.
func (o *common) check() error {
	if o.cacheDir != "" {
		if st, err := os.Stat(o.cacheDir); err == nil && !st.IsDir() {
			return usagef("--cache-dir %s is a file, not a directory; pass a directory (it is created if missing)", o.cacheDir)
		}
	}
	if o.binaries != "" {
		if _, err := os.Stat(o.binaries); err != nil {
			return usagef("--binaries %s: %v; pass the directory of a PostgreSQL installation (the one holding bin/postgres, or bin itself)", o.binaries, plainErr(err))
		}
	}
	return nil
}

func (o *common) options() []pgginkgo.ClusterOption {
	var opts []pgginkgo.ClusterOption
	if o.cacheDir != "" {
		opts = append(opts, pgginkgo.CacheDir(o.cacheDir))
	}
	if o.runAs != "" {
		opts = append(opts, pgginkgo.RunAs(o.runAs))
	}
	if o.version != "" {
		opts = append(opts, pgginkgo.Version(o.version))
	}
	if o.binaries != "" {
		opts = append(opts, pgginkgo.BinariesPath(o.binaries))
	}
	if o.offline {
		opts = append(opts, pgginkgo.Offline())
	}
	if o.repository != "" {
		opts = append(opts, pgginkgo.RepositoryURL(o.repository))
	}
	return opts
}

// suiteOptions are options() for the calls that also take a suite's
// (Inspect, Prepare).
func (o *common) suiteOptions() []pgginkgo.SuiteOption {
	var opts []pgginkgo.SuiteOption
	for _, opt := range o.options() {
		opts = append(opts, opt)
	}
	return opts
}

// plainErr drops the path an *os.PathError repeats.
func plainErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, os.ErrNotExist) {
			return errors.New("no such file or directory")
		}
		return pe.Err
	}
	return err
}

// ginkgoProcs is the number of processes `ginkgo -p` starts on this
// machine: GOMAXPROCS (the CPUs this process may use, cgroup quotas
// included), minus one above four, as ginkgo v2's CLIConfig.ComputedProcs.
func ginkgoProcs() int {
	n := runtime.GOMAXPROCS(0)
	if n > 4 {
		n--
	}
	return n
}
