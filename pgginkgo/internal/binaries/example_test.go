package binaries_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
)

// Resolve with only a version: PGGINKGO_BINARIES, then an installed
// PostgreSQL 15, then a download of 15.13.0 into the cache.
func ExampleResolve() {
	res, err := binaries.Resolve(context.Background(), binaries.Request{
		Version:  "15",
		CacheDir: "/var/cache/pgginkgo",
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	var nf *binaries.NotFoundError
	switch {
	case errors.As(err, &nf):
		fmt.Println(err) // lists every attempt and how to fix it
		return
	case err != nil:
		fmt.Println(err)
		return
	}
	if _, err := binaries.TimezoneDir(res); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Source, res.Version, res.BinDir)
}

// A version that is not supported fails before anything is searched.
func ExampleResolve_badVersion() {
	_, err := binaries.Resolve(context.Background(), binaries.Request{Version: "99"})
	fmt.Println(errors.Is(err, binaries.ErrUnsupportedVersion))
	fmt.Println(err)
	// Output:
	// true
	// unsupported PostgreSQL version "99": pgginkgo supports PostgreSQL majors 13, 14, 15, 16, 17, 18; pass one of them (e.g. "15"), or "" for any
}
