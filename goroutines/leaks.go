package goroutines

import (
	"bytes"
	"runtime/pprof"
)

// leakProfile is the runtime profile of goroutines the garbage collector
// proved can never run again. It exists only in binaries built with Go
// 1.26's GOEXPERIMENT=goroutineleakprofile, which is how a running program
// tells whether it can ask.
const leakProfile = "goroutineleak"

// Leaked returns the goroutines the runtime proved leaked:
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
func Leaked() (leaked []Stack, ok bool) {
	p := pprof.Lookup(leakProfile)
	if p == nil {
		return nil, false
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, 1); err != nil {
		return nil, false
	}
	return parse(&buf), true
}

// LeakProfileAvailable reports whether the binary was built with
// GOEXPERIMENT=goroutineleakprofile, so that Leaked can prove
// leaks. It is cheap.
func LeakProfileAvailable() bool { return pprof.Lookup(leakProfile) != nil }
