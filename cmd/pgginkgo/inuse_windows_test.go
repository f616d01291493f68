package main

import "testing"

// holdUseLock: images are not locked this way on Windows; the in-use
// checks are skipped there.
func holdUseLock(*testing.T, string) func() { return nil }
