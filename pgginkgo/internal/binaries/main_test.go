package binaries

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// childEnv marks a re-executed test binary that should resolve once and
// report, so that the cross-process tests exercise real separate processes.
const childEnv = "PGGINKGO_BINARIES_TEST_CHILD"

// childReport is what a child prints on stdout.
type childReport struct {
	Result    Result
	Err       string
	Extracted int // attempts this process logged with outcome "extracted"
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

func runChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rec := &recorder{}
	res, err := Resolve(ctx, Request{
		Version:       os.Getenv(childEnv + "_VERSION"),
		CacheDir:      os.Getenv(childEnv + "_CACHE"),
		RepositoryURL: os.Getenv(childEnv + "_REPO"),
		Logger:        slog.New(rec),
	})
	rep := childReport{Result: res, Extracted: rec.count("outcome", "extracted")}
	if err != nil {
		rep.Err = err.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 2
	}
	return 0
}

// recorder is a slog.Handler that keeps every record's attributes, so tests
// can assert on what Resolve logged.
type recorder struct {
	mu      sync.Mutex
	records []map[string]string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	attrs := map[string]string{"msg": rec.Message, "level": rec.Level.String()}
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, attrs)
	return nil
}

func (r *recorder) count(key, value string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.records {
		if a[key] == value {
			n++
		}
	}
	return n
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, a := range r.records {
		b.WriteString("\n  ")
		for _, k := range []string{"level", "msg", "source", "path", "outcome", "duration"} {
			if v, ok := a[k]; ok {
				b.WriteString(k + "=" + v + " ")
			}
		}
	}
	return b.String()
}

// noBinariesEnv makes a test independent of a PGGINKGO_BINARIES the
// developer may have exported.
func noBinariesEnv(t *testing.T) { t.Setenv(EnvVar, "") }
