package image

import (
	"context"
	"fmt"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/flock"
)

// Limits bound a Store; zero fields take the defaults.
type Limits struct {
	MaxImages int   // default DefaultMaxImages
	MaxBytes  int64 // default DefaultMaxBytes
}

// The defaults of Limits.
const (
	DefaultMaxImages       = 5
	DefaultMaxBytes  int64 = 2 << 30
)

func (l Limits) withDefaults() Limits {
	if l.MaxImages <= 0 {
		l.MaxImages = DefaultMaxImages
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// Evict removes the least recently used images until the store is within
// limits, never an image a running suite uses, nor those named in keep.
// With all, it removes every image that is not in use. It runs under the
// store's gc lock, so two evictions never race.
func (s Store) Evict(ctx context.Context, limits Limits, all bool, keep ...string) ([]Info, error) {
	limits = limits.withDefaults()
	if err := s.Ensure(); err != nil {
		return nil, err
	}
	l, err := flock.Wait(ctx, s.path("gc.lock"), nil)
	if err != nil {
		return nil, fmt.Errorf("locking the image cache for eviction: %w", err)
	}
	defer l.Release()
	s.Sweep()
	images, err := s.List() // most recently used first
	if err != nil {
		return nil, err
	}
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	var removed []Info
	count, bytes := 0, int64(0)
	for _, img := range images {
		within := !all && count < limits.MaxImages && bytes+img.Bytes <= limits.MaxBytes
		if within || img.InUse || kept[img.Key] {
			count++
			bytes += img.Bytes
			continue
		}
		// Take the use lock exclusively while removing, so that a suite
		// starting from this image right now either finished its copy or
		// finds it gone.
		ul, err := flock.Try(s.path(img.Key+".use.lock"), false)
		if err != nil {
			count++
			bytes += img.Bytes
			continue
		}
		err = s.Remove(img.Key)
		ul.Release()
		if err != nil {
			return removed, err
		}
		removed = append(removed, img)
	}
	return removed, nil
}
