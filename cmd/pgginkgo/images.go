package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// The eviction defaults of pgginkgo.ImageCacheLimits.
const (
	defaultMaxImages       = 5
	defaultMaxBytes  int64 = 2 << 30
)

var lsCommand = &command{
	name:     "ls",
	synopsis: "[--cache-dir D]",
	summary:  "list the migrated images in the cache",
	details: `
Lists the images, most recently used first: key, PostgreSQL version,
templates, ready databases, size, files, when each was created and last
used, and whether a running suite uses it.`,
	setup: setupLs,
}

var gcCommand = &command{
	name:     "gc",
	synopsis: "[--all] [--max-images N] [--max-bytes SIZE] [--cache-dir D] | --server URL [--kept 24h] [--templates 168h]",
	summary:  "remove the images eviction would remove (--all: every image not in use); --server URL sweeps an existing server",
	details: `
Removes the least recently used images beyond the limits, as eviction after
an image build does, and prints what it removed. --all removes every image
that no running suite uses. An image in use is never removed.

SIZE is a number of bytes or a number with a unit: 512MiB, 2GiB, 1G
(K, M, G, T and KiB, MiB, GiB, TiB are powers of 1024; KB, MB, GB, TB
powers of 1000).
` + serverGCDetails,
	setup: setupGC,
}

func setupLs(fs *flag.FlagSet) func(context.Context, *cli) error {
	var o common
	o.cacheFlags(fs)
	return func(ctx context.Context, c *cli) error {
		if err := o.check(); err != nil {
			return err
		}
		dir, err := pgginkgo.ImageCacheDir(o.options()...)
		if err != nil {
			return err
		}
		list, err := pgginkgo.ListImages(o.options()...)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintf(c.stdout, "no images in %s%s\n", dir, missingNote(dir))
			return nil
		}
		printImages(c.stdout, list)
		fmt.Fprintf(c.stdout, "\n%s in %s\n", countImages(list), dir)
		return nil
	}
}

// missingNote explains an image directory that does not exist yet.
func missingNote(dir string) string {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return " (the directory does not exist yet; `pgginkgo prepare` or a suite's first run creates it)"
	}
	return ""
}

func printImages(w io.Writer, list []pgginkgo.ImageInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tPOSTGRESQL\tTEMPLATES\tREADY\tSIZE\tFILES\tCREATED\tLAST USED\tIN USE")
	for _, i := range list {
		inUse := "no"
		if i.InUse {
			inUse = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", i.Key, i.Version, strings.Join(i.Templates, ","), i.Ready,
			pgginkgo.FormatBytes(i.Bytes), i.Files, i.Created.Local().Format(timeLayout), ago(i.LastUsed), inUse)
	}
	tw.Flush()
}

// ago prints a time as a duration before now, "3m ago", rounded for
// reading.
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func countImages(list []pgginkgo.ImageInfo) string {
	var total int64
	for _, i := range list {
		total += i.Bytes
	}
	return plural(len(list), "image") + ", " + pgginkgo.FormatBytes(total)
}

// plural prints "1 image", "2 images".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func setupGC(fs *flag.FlagSet) func(context.Context, *cli) error {
	var o common
	o.cacheFlags(fs)
	all := fs.Bool("all", false, "remove every image that no running suite uses")
	maxImages := fs.Int("max-images", defaultMaxImages, "keep at most this many images, the most recently used")
	maxBytes := sizeFlag(defaultMaxBytes)
	fs.Var(maxBytes, "max-bytes", "keep at most this much, the most recently used first (bytes, or 512MiB, 2GiB, 1G)")
	var server serverGC
	server.flags(fs)
	return func(ctx context.Context, c *cli) error {
		if server.chosen(fs) {
			return server.sweep(ctx, c, fs)
		}
		if *maxImages < 1 {
			return usagef("--max-images %d: keep at least 1 image; to remove them all, pass --all", *maxImages)
		}
		if maxBytes.v < 1 {
			return usagef("--max-bytes %d: keep at least 1 byte; to remove every image, pass --all", maxBytes.v)
		}
		if err := o.check(); err != nil {
			return err
		}
		opts := append(o.options(), pgginkgo.ImageCacheLimits(*maxImages, maxBytes.v))
		dir, err := pgginkgo.ImageCacheDir(opts...)
		if err != nil {
			return err
		}
		removed, err := pgginkgo.RemoveImages(ctx, *all, opts...)
		for _, r := range removed {
			fmt.Fprintf(c.stdout, "removed %s (%s, %d files, last used %s)\n", r.Key, pgginkgo.FormatBytes(r.Bytes), r.Files, ago(r.LastUsed))
		}
		if err != nil {
			return err
		}
		left, err := pgginkgo.ListImages(opts...)
		if err != nil {
			return err
		}
		policy := fmt.Sprintf("limits %s, %s", plural(*maxImages, "image"), formatSize(maxBytes.v))
		if *all {
			policy = "--all"
		}
		switch {
		case len(removed) == 0 && len(left) == 0:
			fmt.Fprintf(c.stdout, "nothing to remove: no images in %s%s\n", dir, missingNote(dir))
			return nil
		case len(removed) == 0:
			fmt.Fprintf(c.stdout, "nothing to remove (%s): %s in %s\n", policy, countImages(left), dir)
		default:
			fmt.Fprintf(c.stdout, "removed %s (%s); %s left in %s\n", countImages(removed), policy, plural(len(left), "image"), dir)
		}
		var inUse []string
		for _, l := range left {
			if l.InUse {
				inUse = append(inUse, l.Key)
			}
		}
		if *all && len(inUse) > 0 {
			fmt.Fprintf(c.stdout, "kept, in use by a running suite: %s\n", strings.Join(inUse, ", "))
		}
		return nil
	}
}
