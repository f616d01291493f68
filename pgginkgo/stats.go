package pgginkgo

import (
	"sync"
	"time"
)

// Stats counts the background work of this process's prefetch pools.
type Stats struct {
	Acquires []time.Duration // a spec's wait for its database
	Recycles []time.Duration // reset in place
	Replaces []time.Duration // dropped and cloned anew
	Clones   []time.Duration // created to fill the pool
	Causes   map[string]int  // why databases were replaced
}

type statsRec struct {
	mu sync.Mutex
	s  Stats
}

// add appends d to list, one of r.s's slices, under r's lock.
func (r *statsRec) add(list *[]time.Duration, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*list = append(*list, d)
}

func (r *statsRec) cause(c string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s.Causes == nil {
		r.s.Causes = map[string]int{}
	}
	r.s.Causes[c]++
}

func (r *statsRec) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := Stats{Causes: map[string]int{}}
	c.Acquires = append(c.Acquires, r.s.Acquires...)
	c.Recycles = append(c.Recycles, r.s.Recycles...)
	c.Replaces = append(c.Replaces, r.s.Replaces...)
	c.Clones = append(c.Clones, r.s.Clones...)
	for k, v := range r.s.Causes {
		c.Causes[k] = v
	}
	return c
}

// ProcessStats reports how long this process's specs waited for their
// databases and how long the background work of its prefetch pools took.
func ProcessStats() Stats { return procPools.stats.snapshot() }
