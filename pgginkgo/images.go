package pgginkgo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/agent"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/image"
)

// ImageInfo describes one migrated image in the cache: a stopped data
// directory holding a suite's templates and ready databases, which a warm
// run copies into place instead of applying migrations.
type ImageInfo struct {
	Key       string    // content hash and layout, e.g. pg15.18-3f2a…-r2
	Dir       string    // where it lives
	Version   string    // PostgreSQL version it was built with
	Templates []string  // template names, in the suite's order
	Ready     int       // ready databases per process of the default template
	Bytes     int64     // size of its data directory
	Files     int       // files in its data directory
	Created   time.Time // when it was built
	LastUsed  time.Time // when a run last booted from it
	InUse     bool      // a running suite was booted from it
}

// String is one line for listings.
func (i ImageInfo) String() string {
	return fmt.Sprintf("%s  PostgreSQL %s  templates %v  %d files  %s", i.Key, i.Version, i.Templates, i.Files, FormatBytes(i.Bytes))
}

// FormatBytes prints a size in binary units, as the image listings do.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func imageInfo(i image.Info) ImageInfo {
	out := ImageInfo{Key: i.Key, Dir: i.Dir, Ready: i.Ready, Bytes: i.Bytes, Files: i.Files,
		Created: i.Created, LastUsed: i.LastUsed, InUse: i.InUse}
	if i.Manifest != nil {
		out.Version = i.Manifest.Version
		for _, t := range i.Manifest.Templates {
			out.Templates = append(out.Templates, t.Name)
		}
	}
	return out
}

// ImageCacheDir is the directory that holds the migrated images for these
// options: under the cache directory (CacheDir, PGGINKGO_CACHE_DIR or the
// default), in the subdirectory of the account PostgreSQL runs as.
func ImageCacheDir(opts ...ClusterOption) (string, error) {
	cfg := clusterConfig(opts)
	if err := cfg.validate(); err != nil {
		return "", err
	}
	return imageStoreDir(cfg)
}

func imageStoreDir(cfg *config) (string, error) {
	acct, err := account(cfg)
	if err != nil {
		return "", err
	}
	dir := cfg.cacheDir
	if dir == "" {
		dir = cfg.defaultCacheDir()
	}
	uid := os.Geteuid()
	if acct != nil {
		uid = int(acct.UID)
	}
	return filepath.Join(dir, "u"+strconv.Itoa(uid), "images"), nil
}

// ListImages lists the images in the cache, most recently used first.
func ListImages(opts ...ClusterOption) ([]ImageInfo, error) {
	dir, err := ImageCacheDir(opts...)
	if err != nil {
		return nil, err
	}
	list, err := image.Store{Dir: dir}.List()
	if err != nil {
		return nil, fmt.Errorf("pgginkgo: %w", err)
	}
	out := make([]ImageInfo, len(list))
	for i, l := range list {
		out[i] = imageInfo(l)
	}
	return out, nil
}

// RemoveImages removes what eviction would: the least recently used images
// beyond the limits (ImageCacheLimits; defaults 5 images, 2 GiB). With all,
// it removes every image. It never removes an image a running suite uses,
// and returns what it removed.
func RemoveImages(ctx context.Context, all bool, opts ...ClusterOption) ([]ImageInfo, error) {
	cfg := clusterConfig(opts)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dir, err := imageStoreDir(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	removed, err := image.Store{Dir: dir}.Evict(ctx, cfg.imageLimits, all)
	out := make([]ImageInfo, len(removed))
	for i, r := range removed {
		out[i] = imageInfo(r)
	}
	if err != nil {
		return out, fmt.Errorf("pgginkgo: %w", err)
	}
	return out, nil
}

// Prepare builds, ahead of a test run, the initdb cache and the migrated
// image that a suite with the same options would use, resolving or
// downloading the binaries first: a CI warm-up step or a Docker layer.
// processes is the largest number of parallel processes (ginkgo -procs)
// the image should serve with a ready database each; at least 2. It
// returns the image, and whether it was built now (false: already there).
//
//	info, built, err := pgginkgo.Prepare(ctx, 4, pgginkgo.Migrations(os.DirFS("migrations")))
func Prepare(ctx context.Context, processes int, opts ...SuiteOption) (ImageInfo, bool, error) {
	cfg := newConfig(opts)
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if processes < 0 {
		return ImageInfo{}, false, fmt.Errorf("pgginkgo: Prepare: processes is %d; pass the number of parallel processes the suite runs with (0 or 1 for go test)", processes)
	}
	if on, err := imageEnv(); err != nil {
		return ImageInfo{}, false, fmt.Errorf("pgginkgo: %w", err)
	} else if !on || cfg.noImage {
		return ImageInfo{}, false, fmt.Errorf("pgginkgo: Prepare: the migrated image is bypassed (%s), so there is nothing to prepare; unset it", imageOffReason(cfg))
	}
	if err := checkTemplates(ctx, cfg); err != nil {
		return ImageInfo{}, false, err
	}
	cfg.imageReady = max(2, processes)
	log := cfg.logger.With("component", "pgginkgo")
	g, h, err := start(ctx, cfg)
	if err != nil {
		return ImageInfo{}, false, err
	}
	defer g.Stop()
	if err := g.installTemplates(ctx, cfg, h, log); err != nil {
		return ImageInfo{}, false, err
	}
	hit := g.ready.Image == agent.ImageHit
	if h.Image == "" {
		return ImageInfo{}, false, fmt.Errorf("pgginkgo: Prepare: the image could not be stored: %s; make the cache directory writable and free space in it, or pass another with --cache-dir / PGGINKGO_CACHE_DIR", g.ready.ImageNote)
	}
	if err := g.Stop(); err != nil {
		return ImageInfo{}, false, err
	}
	dir, err := imageStoreDir(cfg)
	if err != nil {
		return ImageInfo{}, false, err
	}
	list, err := image.Store{Dir: dir}.List()
	if err != nil {
		return ImageInfo{}, false, fmt.Errorf("pgginkgo: %w", err)
	}
	for _, l := range list {
		if l.Key == h.Image {
			return imageInfo(l), !hit, nil
		}
	}
	return ImageInfo{}, false, fmt.Errorf("pgginkgo: Prepare: image %s is not in %s after it was built; another process may have removed it", h.Image, dir)
}

// BinariesInfo says which PostgreSQL binaries a suite with these options
// would run, and how they were found.
type BinariesInfo struct {
	BinDir  string // holds postgres, initdb, pg_ctl
	Version string // e.g. "15.18"
	Source  string // e.g. "installed (pg_config)"
}

// FindBinaries resolves the binaries as Start would, downloading them
// unless Offline. Pass Logger with debug level to see every source tried.
func FindBinaries(ctx context.Context, opts ...ClusterOption) (BinariesInfo, error) {
	cfg := clusterConfig(opts)
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if err := cfg.validate(); err != nil {
		return BinariesInfo{}, err
	}
	if cfg.cacheDir == "" {
		cfg.cacheDir = cfg.defaultCacheDir()
	}
	res, err := binaries.Resolve(ctx, binaries.Request{
		Explicit: cfg.binaries, Version: cfg.version, CacheDir: cfg.cacheDir,
		RepositoryURL: cfg.repositoryURL, Offline: cfg.offline, Logger: cfg.logger,
	})
	if err != nil {
		return BinariesInfo{}, fmt.Errorf("pgginkgo: %w", err)
	}
	return BinariesInfo{BinDir: res.BinDir, Version: res.Version, Source: res.Source}, nil
}

// Environment says who PostgreSQL runs as and where its files go, for
// these options, without starting anything.
type Environment struct {
	Account    string // the account PostgreSQL runs as
	UID        int
	CacheDir   string // binaries, initdb cache and images
	ImageDir   string // the images, inside CacheDir
	RuntimeDir string // where cluster directories are created
	// MaxConnections is the most max_connections a suite will set (it
	// sizes it to its processes, up to one connection per 8 MiB of
	// memory), or the explicit Setting; PerProcess the connections one
	// ginkgo process may hold (two for each database of its prefetch pool,
	// its admin pool, its spec's pool and headroom for clients of its own);
	// Processes how many parallel processes that allows at the full
	// Prefetch.
	MaxConnections, PerProcess, Processes int
}

// Inspect reports the Environment for these options.
func Inspect(opts ...SuiteOption) (Environment, error) {
	cfg := newConfig(opts)
	if err := cfg.validate(); err != nil {
		return Environment{}, err
	}
	acct, err := account(cfg)
	if err != nil {
		return Environment{}, err
	}
	env := Environment{Account: currentUserName(), UID: os.Geteuid()}
	if acct != nil {
		env.Account, env.UID = acct.Name, int(acct.UID)
	}
	env.CacheDir = cfg.cacheDir
	if env.CacheDir == "" {
		env.CacheDir = cfg.defaultCacheDir()
	}
	env.ImageDir, _ = imageStoreDir(cfg)
	env.RuntimeDir = cfg.runtimeDir
	if env.RuntimeDir == "" {
		// Where a cluster of Start's size would go; a suite's need grows
		// with its processes (see chooseRuntimeDir).
		quiet := slog.New(slog.DiscardHandler)
		if env.RuntimeDir, err = chooseRuntimeDir(env.UID, cfg.spaceNeed(estimateSizes(0, 0)), os.TempDir(), quiet); err != nil {
			env.RuntimeDir = filepath.Join(os.TempDir(), "pgginkgo-"+strconv.Itoa(env.UID))
		}
	}
	// A suite sizes max_connections to its run (see budget.go), up to a
	// ceiling set by the machine's memory, unless it is set explicitly.
	if env.MaxConnections, _, err = cfg.connectionLimit(); err != nil {
		return Environment{}, err
	}
	env.PerProcess = connsPerProcess(max(1, len(cfg.templates)), cfg.prefetch)
	env.Processes = max(0, (env.MaxConnections-setupConns)/env.PerProcess)
	return env, nil
}

// currentUserName names the account this process runs as; $USER can be
// stale after su or setpriv.
func currentUserName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Geteuid())
}
