package shepherd

import (
	"bytes"
	"runtime/pprof"
	"strconv"
)

// leakProfile is the runtime profile of goroutines the garbage collector
// proved can never run again. It exists only in binaries built with Go
// 1.26's GOEXPERIMENT=goroutineleakprofile, which is how a running program
// tells whether it can ask.
const leakProfile = "goroutineleak"

// LeakedGoroutines returns the goroutines the runtime proved leaked:
// blocked on a channel, mutex or wait group that no goroutine still
// running can reach, so they will never wake. Each keeps the pprof labels
// of the goroutine that started it, and so its shepherd owner in Path.
//
// ok is false when the binary was built without
// GOEXPERIMENT=goroutineleakprofile: the runtime offers no such proof
// then, and a goroutine that looks blocked may yet wake.
//
// It runs a garbage collection to find them, so it costs what
// runtime.GC costs: call it from reports and debug pages, not hot paths.
func LeakedGoroutines() (leaked []GoroutineStack, ok bool) {
	p := pprof.Lookup(leakProfile)
	if p == nil {
		return nil, false
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, 1); err != nil {
		return nil, false
	}
	return parseGoroutineProfile(&buf), true
}

// LeakProfileAvailable reports whether the binary was built with
// GOEXPERIMENT=goroutineleakprofile, so that LeakedGoroutines can prove
// leaks. It is cheap.
func LeakProfileAvailable() bool { return pprof.Lookup(leakProfile) != nil }

// stackKey identifies a set of goroutines by owner and stack, to match the
// leak profile's entries with the goroutine profile's.
func stackKey(g GoroutineStack) string {
	b := []byte(g.Path)
	for _, f := range g.Frames {
		b = append(b, 0)
		b = append(b, f.Function...)
		b = append(b, ' ')
		b = append(b, f.File...)
		b = strconv.AppendInt(append(b, ':'), int64(f.Line), 10)
	}
	return string(b)
}

// markLeaked sets Leaked on each stack of the groups to the number of its
// goroutines the runtime proved leaked, when the binary can tell; it reads
// the leak profile once for all of them. It reports whether it could.
func markLeaked(groups ...[]GoroutineStack) bool {
	leaked, ok := LeakedGoroutines()
	if !ok {
		return false
	}
	counts := make(map[string]int, len(leaked))
	for _, l := range leaked {
		counts[stackKey(l)] += l.Count
	}
	for _, gs := range groups {
		for i := range gs {
			k := stackKey(gs[i])
			n := min(counts[k], gs[i].Count)
			gs[i].Leaked = n
			counts[k] -= n
		}
	}
	return true
}

// markLeakedIn is markLeaked for stacks grouped by owner.
func markLeakedIn(byOwner map[string][]GoroutineStack) {
	groups := make([][]GoroutineStack, 0, len(byOwner))
	for _, gs := range byOwner {
		groups = append(groups, gs)
	}
	markLeaked(groups...)
}

// leakNote is what a stuck report adds to a set of goroutines of which
// some are proven leaked.
func leakNote(g GoroutineStack) string {
	switch g.Leaked {
	case 0:
		return ""
	case g.Count:
		return " (proven leaked: they can never return; more budget would not help)"
	}
	return " (" + strconv.Itoa(g.Leaked) + " proven leaked: they can never return; more budget would not help)"
}
