package binaries

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// explicit handles step 1. done is true when the user named a directory:
// then its verdict is final, success or error, because falling through to
// some other PostgreSQL would run binaries the user did not ask for.
func (r *resolver) explicit(ctx context.Context) (res Result, done bool, err error) {
	source, dir, fix := "explicit option", r.req.Explicit, "fix or remove the explicit binaries option"
	if dir == "" {
		source, dir = EnvVar, os.Getenv(EnvVar)
		fix = "fix " + EnvVar + ", or unset it to let pgginkgo find or download PostgreSQL"
	}
	if dir == "" {
		r.record(Attempt{Source: "explicit option / " + EnvVar, Outcome: "not set"}, false)
		return Result{}, false, nil
	}

	start := time.Now()
	res, v, err := inspect(ctx, dir, source)
	if err == nil {
		if ok, why := r.want.accepts(v); !ok {
			err = fmt.Errorf("%s; request that version instead, or point %s at a PostgreSQL %s installation",
				why, source, r.want.raw)
		}
	}
	if err != nil {
		r.record(Attempt{Source: source, Path: dir, Outcome: err.Error(), Err: err, Duration: time.Since(start)}, true)
		hint := "; it must be a PostgreSQL installation root holding bin/postgres, bin/pg_ctl and bin/initdb (e.g. /usr/lib/postgresql/15), or that bin directory"
		var le *layoutError
		if !errors.As(err, &le) {
			hint = ""
		}
		return Result{}, true, fmt.Errorf("%w: %s is set to %q, but %w%s; %s",
			ErrInvalidBinaries, source, dir, err, hint, fix)
	}
	r.record(Attempt{Source: source, Path: res.BinDir, Outcome: "ok", Duration: time.Since(start)}, false)
	return res, true, nil
}
