package binaries

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalidBinaries is wrapped by the error Resolve returns when the
// explicit option or PGGINKGO_BINARIES names a directory that is not a usable
// PostgreSQL installation. Resolve does not fall back to other sources then:
// the user asked for those binaries, and running others would hide the typo.
var ErrInvalidBinaries = errors.New("invalid PostgreSQL binaries directory")

// Attempt is one source Resolve tried.
type Attempt struct {
	Source   string        // e.g. "PGGINKGO_BINARIES", "installed (/usr/lib/postgresql/15/bin)"
	Path     string        // the directory or URL looked at; "" when there was none
	Outcome  string        // "ok", or why the source was not used
	Err      error         // the underlying error, if there was one
	Duration time.Duration // how long the attempt took
}

// NotFoundError is returned by Resolve when no source produced usable
// binaries. Its message lists every attempt and the ways out.
type NotFoundError struct {
	Requested string // the requested version; "" means any
	Attempts  []Attempt
	cause     error // the context's error when Resolve was cancelled
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	want := "any supported version (" + supportedList() + ")"
	if e.Requested != "" {
		want = "version " + e.Requested
	}
	fmt.Fprintf(&b, "no usable PostgreSQL binaries for %s; tried:", want)
	for _, a := range e.Attempts {
		b.WriteString("\n  - ")
		b.WriteString(a.Source)
		if a.Path != "" && !strings.Contains(a.Source, a.Path) && !strings.Contains(a.Outcome, a.Path) {
			b.WriteString(" [" + a.Path + "]")
		}
		b.WriteString(": " + a.Outcome)
	}
	if e.cause != nil {
		fmt.Fprintf(&b, "\nstopped early: %v", e.cause)
	}
	b.WriteString("\nto fix, do one of:")
	b.WriteString("\n  - set " + EnvVar + " (or the explicit binaries option) to a PostgreSQL installation, the directory holding bin/postgres")
	b.WriteString("\n  - install PostgreSQL: apt-get install postgresql" + suffixFor(e.Requested) + " (Debian/Ubuntu), brew install postgresql" + atFor(e.Requested) + " (macOS)")
	b.WriteString("\n  - allow the download: do not run offline, allow network access to the Maven repository, or set the repository URL option to a Maven mirror that has io.zonky.test.postgres")
	return b.String()
}

// Unwrap exposes the attempts' errors and a cancellation, so that
// errors.Is(err, context.Canceled) works.
func (e *NotFoundError) Unwrap() []error {
	var errs []error
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	for _, a := range e.Attempts {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}

// suffixFor turns "15.13.0" into "-15" for package names; "" stays "".
func suffixFor(version string) string {
	if major, _, _ := strings.Cut(version, "."); major != "" {
		return "-" + major
	}
	return ""
}

func atFor(version string) string {
	if major, _, _ := strings.Cut(version, "."); major != "" {
		return "@" + major
	}
	return ""
}
