package pgginkgo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/image"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/template"
)

// ClusterOption shapes the cluster (or names the existing server) and how
// pgginkgo reaches it. Start takes only these; Suite takes them too.
type ClusterOption func(*config)

// SuiteOption configures Suite: every ClusterOption, and the options that
// only a suite acts on, because Start builds no template and binds no
// spec's database (DefineTemplate, Migrations, Prefetch, the keep, leak and
// cluster-object policies, FailureDumps, AfterStart, BeforeStop,
// WithoutImage). Passing one of those to Start is a compile error, so no
// cluster comes up unmigrated by mistake.
type SuiteOption interface {
	applySuite(c *config)
}

func (o ClusterOption) applySuite(c *config) { o(c) }

// suiteOnly is a SuiteOption that is not a ClusterOption.
type suiteOnly func(*config)

func (o suiteOnly) applySuite(c *config) { o(c) }

// config holds every knob in one place; defaults live in defaultConfig.
type config struct {
	version       string
	binaries      string
	cacheDir      string
	runtimeDir    string
	runAs         string
	superuser     string
	locale        string
	encoding      string
	port          int
	settings      map[string]string
	logger        *slog.Logger
	startTimeout  time.Duration
	exportEnv     bool
	repositoryURL string
	offline       bool
	errs          []error
	explicit      map[string]bool // settings given with Setting

	// fresh-database options, used by Suite
	templates   []template.Template
	prefetch    int
	prefetchSet bool // given with Prefetch: never capped, an error when it cannot fit
	procs       int  // processes of the run (Suite); 0 for Start
	watchPID    int  // the ginkgo CLI's PID, when Suite runs under it; see ginkgocli.go
	// what to do with cluster-wide objects a spec creates
	policies     policies // the suite's keep, leak and cluster-object policies
	failureDumps int      // FailureDumps: the run's cap on dumps of failed specs' databases
	afterStart   []func(context.Context, *Handle) error
	beforeStop   []func(context.Context, *Handle) error

	// the migrated image, used by Suite and Prepare
	noImage     bool         // WithoutImage
	imageLimits image.Limits // ImageCacheLimits
	imageReady  int          // ready databases of the default template to keep in the image; 0: no image
	// fingerprints of every template's sources, read once by checkTemplates
	fingerprints [][]string

	// an existing server (Server, PGGINKGO_SERVER_URL)
	serverURL   string
	keptTTL     time.Duration // ServerRetention; defaultConfig sets both
	templateTTL time.Duration
}

// DefaultSettings are the server settings a test cluster starts with. They
// trade durability for speed: a test cluster never needs to survive a crash.
// Every one can be overridden with Setting.
func DefaultSettings() map[string]string {
	return map[string]string{
		"fsync":               "off",
		"synchronous_commit":  "off",
		"full_page_writes":    "off",
		"shared_buffers":      "32MB",
		"wal_level":           "minimal",
		"max_wal_senders":     "0",
		"max_connections":     "200", // Suite sizes it to the run instead; see budget.go
		"password_encryption": "scram-sha-256",
		"jit":                 "off", // JIT compilation costs more than it saves on test-sized queries
	}
}

// newConfig applies opts over the defaults.
func newConfig(opts []SuiteOption) *config {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			cfg.errs = append(cfg.errs, errors.New("an option is nil"))
			continue
		}
		o.applySuite(cfg)
	}
	return cfg
}

// clusterConfig applies cluster options only (Start and the image and
// binaries helpers).
func clusterConfig(opts []ClusterOption) *config {
	suite := make([]SuiteOption, len(opts))
	for i, o := range opts {
		if o != nil {
			suite[i] = o
		}
	}
	return newConfig(suite)
}

// validate reports every invalid option at once.
func (c *config) validate() error {
	if err := errors.Join(c.errs...); err != nil {
		return fmt.Errorf("pgginkgo: invalid option: %w", err)
	}
	return nil
}

func defaultConfig() *config {
	return &config{
		superuser:    "postgres",
		locale:       "C",
		encoding:     "UTF8",
		runAs:        "nobody",
		settings:     DefaultSettings(),
		startTimeout: 2 * time.Minute,
		exportEnv:    true,
		prefetch:     defaultPrefetch(),
		policies:     defaultPolicies(),
		failureDumps: 20, // enough to see a pattern, few enough not to fill a disk
		keptTTL:      24 * time.Hour,
		templateTTL:  7 * 24 * time.Hour,
	}
}

func defaultPrefetch() int {
	// Two ready databases per core keep a spec from waiting while the
	// background recycles; more only costs memory on a small machine.
	if n := 2 * runtime.NumCPU(); n < 8 {
		return max(n, 2)
	}
	return 8
}

// Version requests a PostgreSQL major ("15") or full ("15.13.0") version.
// Without it any installed version is used, else the newest embedded-postgres
// knows.
func Version(v string) ClusterOption { return func(c *config) { c.version = v } }

// BinariesPath uses the PostgreSQL installation at dir (the directory that
// holds bin/, or bin/ itself). It wins over PGGINKGO_BINARIES.
func BinariesPath(dir string) ClusterOption { return func(c *config) { c.binaries = dir } }

// CacheDir sets where downloaded binaries and the warm initdb cache live.
// Defaults: PGGINKGO_CACHE_DIR, else /var/cache/pgginkgo for root, else the
// user's cache directory.
func CacheDir(dir string) ClusterOption { return func(c *config) { c.cacheDir = dir } }

// RuntimeDir sets where cluster directories (data, socket, passfile) are
// created. Default: /dev/shm/pgginkgo-<uid of the postgres account> on Linux
// when /dev/shm is a tmpfs with at least 1 GiB free, else
// $TMPDIR/pgginkgo-<uid>.
func RuntimeDir(dir string) ClusterOption { return func(c *config) { c.runtimeDir = dir } }

// RunAs names the unprivileged account PostgreSQL runs as when the test
// process is root. Default "nobody". Ignored when not root.
func RunAs(account string) ClusterOption { return func(c *config) { c.runAs = account } }

// Superuser sets the name of the cluster's superuser. Default "postgres".
func Superuser(name string) ClusterOption { return func(c *config) { c.superuser = name } }

// Locale and Encoding are passed to initdb. Defaults "C" and "UTF8", which
// exist everywhere and sort predictably.
func Locale(locale string) ClusterOption { return func(c *config) { c.locale = locale } }

// Encoding sets the cluster's encoding; see Locale.
func Encoding(enc string) ClusterOption { return func(c *config) { c.encoding = enc } }

// Port fixes the TCP port. Default: a free port picked at start, which is
// what lets suites run side by side.
func Port(port int) ClusterOption { return func(c *config) { c.port = port } }

// Setting overrides one server setting (as postgres -c name=value). An empty
// value removes a default from DefaultSettings.
func Setting(name, value string) ClusterOption {
	return func(c *config) {
		if !settingName.MatchString(name) {
			c.errs = append(c.errs, fmt.Errorf("Setting(%q): not a PostgreSQL parameter name; use names like shared_buffers or log_statement", name))
			return
		}
		if strings.ContainsRune(value, 0) {
			c.errs = append(c.errs, fmt.Errorf("Setting(%q): the value contains a NUL byte", name))
			return
		}
		switch name {
		case "port", "listen_addresses", "unix_socket_directories":
			c.errs = append(c.errs, fmt.Errorf("Setting(%q): pgginkgo manages this one; use Port to fix the port", name))
			return
		}
		if c.explicit == nil {
			c.explicit = map[string]bool{}
		}
		c.explicit[name] = true
		if value == "" {
			delete(c.settings, name)
			return
		}
		c.settings[name] = value
	}
}

var settingName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.]*$`)

// Logger sends pgginkgo's step-by-step log to l. Inside a Suite the default
// writes to GinkgoWriter; for Start it is slog.Default().
func Logger(l *slog.Logger) ClusterOption { return func(c *config) { c.logger = l } }

// StartTimeout bounds how long PostgreSQL may take to accept connections.
func StartTimeout(d time.Duration) ClusterOption { return func(c *config) { c.startTimeout = d } }

// WithoutEnv keeps Start from pointing PGHOST, PGPORT, PGUSER, PGDATABASE,
// PGPASSFILE and PGSSLMODE at the cluster.
func WithoutEnv() ClusterOption { return func(c *config) { c.exportEnv = false } }

// RepositoryURL sets the Maven repository embedded-postgres downloads
// binaries from, for a mirror or proxy.
func RepositoryURL(url string) ClusterOption { return func(c *config) { c.repositoryURL = url } }

// Offline forbids downloading binaries; only explicit or installed ones are
// used.
func Offline() ClusterOption { return func(c *config) { c.offline = true } }

// AfterStart runs fn in every process once the cluster is reachable and
// the PG* variables are set. Ginkgo allows one suite-level setup node and
// Suite uses it, so suite-wide setup of your own goes here.
func AfterStart(fn func(ctx context.Context, h *Handle) error) SuiteOption {
	return suiteOnly(func(c *config) { c.afterStart = append(c.afterStart, fn) })
}

// BeforeStop runs fn in every process before pgginkgo closes its clients
// and stops the cluster: the place for suite-wide teardown of your own.
func BeforeStop(fn func(ctx context.Context, h *Handle) error) SuiteOption {
	return suiteOnly(func(c *config) { c.beforeStop = append(c.beforeStop, fn) })
}

func (c *config) defaultCacheDir() string {
	if d := os.Getenv("PGGINKGO_CACHE_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 && runtime.GOOS != "windows" {
		// Root's home is closed to the postgres account; a system cache
		// directory is not.
		return "/var/cache/pgginkgo"
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "pgginkgo")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("pgginkgo-cache-%d", os.Geteuid()))
}

// WithoutImage bypasses the migrated image: the run applies its
// migrations in its own cluster, as PGGINKGO_IMAGE=off does. See
// docs/users-guide.md, "The migrated image".
func WithoutImage() SuiteOption { return suiteOnly(func(c *config) { c.noImage = true }) }

// ImageCacheLimits bounds the image cache: at most maxImages images and
// maxBytes bytes, the least recently used going first (defaults 5 and
// 2 GiB; 0 keeps a default). An image a running suite uses is never
// removed.
func ImageCacheLimits(maxImages int, maxBytes int64) ClusterOption {
	return func(c *config) {
		if maxImages < 0 || maxBytes < 0 {
			c.errs = append(c.errs, fmt.Errorf("ImageCacheLimits(%d, %d): limits cannot be negative; pass 0 to keep a default", maxImages, maxBytes))
			return
		}
		c.imageLimits = image.Limits{MaxImages: maxImages, MaxBytes: maxBytes}
	}
}
