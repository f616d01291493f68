package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

var prepareCommand = &command{
	name:     "prepare",
	synopsis: "--migrations DIR [--version 16] [--procs N] [--cache-dir D] [--offline] [--repository URL]",
	summary:  "build the migrated image a suite using Migrations(DIR) boots from (CI warm-up, Docker layers)",
	details: `
Resolves or downloads the PostgreSQL binaries, then builds the initdb cache
and the migrated image that pgginkgo.Suite(pgginkgo.Migrations(os.DirFS(DIR)))
would use, and prints the image's key, size and files, and whether it was
built now or already present. A later test run on the same cache directory
boots from the image and applies no migration.

The image matches a suite that passes Migrations(DIR) with otherwise default
options and the same --version; a suite with other templates or settings
builds its own image at its first run. Run prepare again after changing a
migration: the key covers every file's name and content.`,
	setup: setupPrepare,
}

func setupPrepare(fs *flag.FlagSet) func(context.Context, *cli) error {
	var o common
	o.cacheFlags(fs)
	o.binaryFlags(fs)
	o.downloadFlags(fs)
	migrations := fs.String("migrations", "", "the directory of .sql migrations the suite passes to pgginkgo.Migrations (required)")
	procs := fs.Int("procs", ginkgoProcs(), "the most parallel processes the suite runs with (ginkgo -procs); the default is what ginkgo -p uses on this machine")
	verbose := fs.Bool("v", false, "log every step to stderr (as PGGINKGO_LOG_LEVEL=info)")
	return func(ctx context.Context, c *cli) error {
		if *migrations == "" {
			return usagef("--migrations is required: pass the directory of .sql files the suite gives pgginkgo.Migrations, e.g. --migrations ./migrations")
		}
		dir, err := filepath.Abs(*migrations)
		if err != nil {
			return usagef("--migrations %s: %v", *migrations, err)
		}
		st, err := os.Stat(dir)
		switch {
		case err != nil:
			where := ""
			if !filepath.IsAbs(*migrations) {
				where = " (looked for " + dir + ")"
			}
			return usagef("--migrations %s: %v%s; pass the directory that holds the suite's .sql migrations, relative to the current directory or absolute", *migrations, plainErr(err), where)
		case !st.IsDir():
			return usagef("--migrations %s is a file, not a directory; pass the directory that holds the .sql files", *migrations)
		}
		if *procs < 1 {
			return usagef("--procs %d: pass the number of parallel processes the suite runs with, at least 1 (ginkgo -p uses %d on this machine)", *procs, ginkgoProcs())
		}
		if err := o.check(); err != nil {
			return err
		}
		level := slog.LevelWarn
		if *verbose {
			level = slog.LevelInfo
		}
		level = envLogLevel(level)
		logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: level}))
		opts := append(o.suiteOptions(), pgginkgo.Migrations(os.DirFS(dir)), pgginkgo.Logger(logger))

		began := time.Now()
		info, built, err := pgginkgo.Prepare(ctx, *procs, opts...)
		if err != nil {
			return err
		}
		took := time.Since(began).Round(time.Millisecond)
		if built {
			fmt.Fprintf(c.stdout, "built image %s in %s\n", info.Key, took)
		} else {
			fmt.Fprintf(c.stdout, "image %s was already present (created %s); nothing to build\n", info.Key, info.Created.Local().Format(timeLayout))
		}
		fmt.Fprintf(c.stdout, "  PostgreSQL %s, templates %s, %d ready databases (one per process, for up to %d processes)\n",
			info.Version, strings.Join(info.Templates, ", "), info.Ready, info.Ready)
		fmt.Fprintf(c.stdout, "  size %s, %d files\n", pgginkgo.FormatBytes(info.Bytes), info.Files)
		fmt.Fprintf(c.stdout, "  in %s\n", info.Dir)
		fmt.Fprintf(c.stdout, "  migrations %s\n", dir)
		return nil
	}
}

// envLogLevel lets PGGINKGO_LOG_LEVEL (debug, info, warn, error) override
// def, as it does in a suite.
func envLogLevel(def slog.Level) slog.Level {
	var l slog.Level
	if v := os.Getenv("PGGINKGO_LOG_LEVEL"); v != "" && l.UnmarshalText([]byte(strings.ToUpper(v))) == nil {
		return l
	}
	return def
}

const timeLayout = "2006-01-02 15:04:05"
