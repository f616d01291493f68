//go:build !linux && !windows

package agent

import "time"

// Elsewhere a killed postmaster's shared memory stays until reboot or
// ipcrm: the cluster's dynamic shared memory is in data/pg_dynshmem
// (mmap), so only its small System V segment is left.
func releaseIPC(dataDir string, wait time.Duration) []string { return nil }
