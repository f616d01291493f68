package main

// groupOf has no meaning on Windows, where pgginkgo never switches
// accounts.
func groupOf(int) (uint32, bool) { return 0, true }

// unreachable is never consulted on Windows (no root); every path counts
// as reachable.
func unreachable(string, uint32, uint32) string { return "" }
