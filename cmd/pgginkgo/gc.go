package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// The retention defaults of pgginkgo.ServerRetention.
const (
	defaultKept      = 24 * time.Hour
	defaultTemplates = 7 * 24 * time.Hour
)

// serverGCDetails is the part of `pgginkgo help gc` on an existing server.
const serverGCDetails = `
With --server URL (postgres://user[:password]@host:port/database), gc sweeps
an existing server instead of the image cache, as every run on it does at
its start: it drops the databases of runs that ended without cleaning up
(their lease is gone) and that nobody is connected to, the databases kept
for failed specs longer than --kept ago, and the templates unused for
longer than --templates or never completed. Live runs' databases are never
touched. It prints each database it dropped or left, and why.

--server defaults to PGGINKGO_SERVER_URL when --kept or --templates is
given (plain "pgginkgo gc" always means the image cache). A duration is a
Go duration (90m, 24h, 168h) or a number of days (7d, 1.5d).`

// serverGC holds gc's flags for an existing server.
type serverGC struct {
	url             string
	kept, templates valueFlag[time.Duration]
}

func (s *serverGC) flags(fs *flag.FlagSet) {
	s.kept, s.templates = retention(defaultKept), retention(defaultTemplates)
	fs.StringVar(&s.url, "server", "", "sweep the existing server at this postgres:// `URL` instead of the image cache (default with --kept or --templates: "+pgginkgo.EnvServerURL+")")
	fs.Var(&s.kept, "kept", "on --server, drop databases kept for failed specs longer ago than this `duration` (or days: 7d)")
	fs.Var(&s.templates, "templates", "on --server, drop templates unused for longer than this `duration` (or days: 7d)")
}

// serverFlags are the flags that switch gc to a server.
var serverFlags = map[string]bool{"server": true, "kept": true, "templates": true}

// chosen says whether the command line asks gc for a server: only flags
// do, so that a job that sets PGGINKGO_SERVER_URL for its suite can still
// clean its image cache.
func (s *serverGC) chosen(fs *flag.FlagSet) bool {
	on := false
	fs.Visit(func(f *flag.Flag) { on = on || serverFlags[f.Name] })
	return on
}

// sweep runs pgginkgo.SweepServer and prints what it did.
func (s *serverGC) sweep(ctx context.Context, c *cli, fs *flag.FlagSet) error {
	var cacheOnly []string
	fs.Visit(func(f *flag.Flag) {
		if !serverFlags[f.Name] {
			cacheOnly = append(cacheOnly, dashed(f.Name))
		}
	})
	if len(cacheOnly) > 0 {
		verb := "is"
		if len(cacheOnly) > 1 {
			verb = "are"
		}
		return usagef("--server sweeps a server, and %s %s for the image cache; run gc once for each", strings.Join(cacheOnly, ", "), verb)
	}
	url := s.url
	if url == "" {
		url = os.Getenv(pgginkgo.EnvServerURL)
	}
	if url == "" {
		return usagef("no server to sweep: pass --server postgres://user@host:port/postgres, or set %s", pgginkgo.EnvServerURL)
	}
	rep, err := pgginkgo.SweepServer(ctx, url, s.kept.v, s.templates.v)
	// A failure after the first drops still says what was dropped.
	for _, d := range rep.Dropped {
		fmt.Fprintf(c.stdout, "dropped %s: %s\n", d.Name, d.Why)
	}
	for _, d := range rep.Left {
		fmt.Fprintf(c.stdout, "left %s: %s\n", d.Name, d.Why)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "gc: dropped %s, left %d\n", plural(len(rep.Dropped), "database"), len(rep.Left))
	return nil
}

// retention is a flag holding a positive duration, d until it is set.
func retention(d time.Duration) valueFlag[time.Duration] {
	return valueFlag[time.Duration]{v: d, parse: parseRetention, format: formatRetention}
}

const retentionHelp = "use a Go duration (90m, 24h, 168h) or a number of days (7d, 1.5d)"

var days = regexp.MustCompile(`^([-+]?[0-9]+(?:\.[0-9]+)?)d$`)

// parseRetention reads a Go duration or a number of days, "7d", and
// refuses what is not positive: a sweep drops what is older than it.
func parseRetention(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	var d time.Duration
	if m := days.FindStringSubmatch(t); m != nil {
		n, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return 0, fmt.Errorf("not a duration; %s", retentionHelp)
		}
		h := n * float64(24*time.Hour)
		if h >= math.MaxInt64 {
			return 0, errors.New("too long; the longest is 106751d")
		}
		d = time.Duration(h)
	} else {
		var err error
		if d, err = time.ParseDuration(t); err != nil {
			// Its errors repeat the value, which the flag error shows.
			return 0, fmt.Errorf("not a duration; %s", retentionHelp)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive: a sweep drops what is older than it; %s", retentionHelp)
	}
	return d, nil
}

// formatRetention prints whole hours as users type them (24h, 168h), not
// as time.Duration does (24h0m0s).
func formatRetention(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}
