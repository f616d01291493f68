package pgginkgo

// processAlive is conservative on Windows: a run's directory stays.
func processAlive(int) bool { return true }
