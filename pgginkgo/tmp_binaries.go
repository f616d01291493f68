package pgginkgo

// TEMPORARY until internal/binaries lands.

import (
	"context"
	"log/slog"
)

type binRequest struct {
	Explicit, Version, CacheDir, RepositoryURL string
	Offline                                    bool
	Logger                                     *slog.Logger
}
type binResult struct {
	BinDir, Root, Version string
	Major                 int
	Source                string
}

func binariesResolve(ctx context.Context, r binRequest) (binResult, error) {
	return binResult{BinDir: "/usr/lib/postgresql/15/bin", Root: "/usr/lib/postgresql/15", Version: "15.18", Major: 15, Source: "tmp"}, nil
}
func binariesTimezoneDir(r binResult) (string, bool, error) { return "", false, nil }
