package goroutines

import "strings"

// WaitsIn returns where the goroutines of s wait in their program's own
// code: the innermost frame past the runtime, the standard library's
// synchronisation, timers and contexts, and shepherd itself, which say how
// a goroutine waits but not which line of the program made it wait. It
// reports false when every frame is such plumbing.
func (s Stack) WaitsIn() (Frame, bool) {
	for _, f := range s.Frames {
		if !isPlumbing(f.Function) {
			return f, true
		}
	}
	return Frame{}, false
}

// isPlumbing reports whether fn belongs to the machinery a goroutine waits
// through rather than to its owner's code.
func isPlumbing(fn string) bool {
	for _, p := range []string{"runtime.", "runtime/", "internal/", "sync.", "time.", "context.", "github.com/shepherd-go/shepherd."} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}
