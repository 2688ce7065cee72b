package goroutines

import (
	"fmt"
	"strconv"
	"strings"
)

// A Trend is what a shepherd GoroutineSampler knows of one node of its
// tree: the node's goroutine counts over the sampler's window and its
// MaxGoroutines. GoroutineSampler.Trends returns one per node, by path.
type Trend struct {
	// Counts are the node's goroutines at each sample, oldest first.
	Counts []int `json:"counts"`
	// Growing is true when the window is full and the count rose at every
	// sample of it: the shape of a leak. A count that levels off, as a
	// service's does once it has started, is not flagged.
	Growing bool `json:"only_grown"`
	// Max is the node's MaxGoroutines, 0 if none; Over is whether the last
	// sample was past it.
	Max  int  `json:"max_goroutines,omitempty"`
	Over bool `json:"over_limit,omitempty"`
}

// Arrows writes the counts as "3→5→9".
func (t Trend) Arrows() string {
	parts := make([]string, len(t.Counts))
	for i, c := range t.Counts {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, "→")
}

// A LimitError reports a node past the MaxGoroutines a shepherd
// GoroutineSampler was given for it: the sampler returns it from Sample,
// and an event of the tree carries it in Err, so errors.As on a
// *LimitError recognises an over-limit event.
type LimitError struct {
	Path       string
	Count, Max int
	// Goroutines are the node's goroutines at the sample.
	Goroutines []Stack
}

// Error names the owner, its count and ceiling, and where most of its
// goroutines wait.
func (e *LimitError) Error() string {
	msg := fmt.Sprintf("shepherd: %q holds %d goroutines, past its MaxGoroutines of %d", e.Path, e.Count, e.Max)
	var top *Stack
	for i := range e.Goroutines {
		if top == nil || e.Goroutines[i].Count > top.Count {
			top = &e.Goroutines[i]
		}
	}
	if top == nil {
		return msg
	}
	if f, ok := top.WaitsIn(); ok {
		return msg + fmt.Sprintf("; %d of them (%s) wait in %s at %s:%d", top.Count, top.Path, f.Function, f.File, f.Line)
	}
	return msg
}
