//go:build !windows

package agent

import "time"

// watchInterval is how often the agent looks at the watched process: the
// cluster ends within it, plus a fast shutdown, after the process.
const watchInterval = 200 * time.Millisecond

// watchProcess calls gone once the process pid, which started at start,
// has ended, unless stop closes first. A different start time means the
// PID was reused, so the process ended.
//
// start is what the parent read before it started the agent; 0 takes
// whatever runs as pid now. When the parent saw the process but the agent
// cannot (/proc mounted with hidepid, and the agent runs as another
// account), watching would stop the cluster at once: blind is called
// instead, and nothing is watched.
func watchProcess(pid int, start uint64, stop <-chan struct{}, gone, blind func()) {
	now, ok := procStart(pid)
	switch {
	case !ok && start != 0:
		blind()
		return
	case !ok:
		gone()
		return
	case start == 0:
		start = now
	}
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		if now != start {
			gone()
			return
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if now, ok = procStart(pid); !ok {
			gone()
			return
		}
	}
}
