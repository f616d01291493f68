package pgginkgo

import (
	"context"
	"log/slog"
)

// Filled in by the fresh-database work.
func buildTemplates(ctx context.Context, cfg *config, h *Handle, log *slog.Logger) error {
	return nil
}
func startProcessPools(ctx context.Context, cfg *config, h *Handle, log *slog.Logger) error {
	return nil
}
func stopProcessPools(ctx context.Context)      {}
func reportKept(ctx context.Context, h *Handle) {}
