package shepherd

import (
	"slices"
	"strings"

	"github.com/shepherd-go/shepherd/goroutines"
)

// shepherdPkg is the prefix of the functions of shepherd's own package
// (its tests and examples live in other packages).
const shepherdPkg = "github.com/shepherd-go/shepherd."

// isProgram reports whether fn is the program's own code: neither the
// standard library (whose import paths have no dot in their first
// element) nor shepherd. Package main is the program's.
func isProgram(fn string) bool {
	if strings.HasPrefix(fn, "main.") {
		return true
	}
	if strings.HasPrefix(fn, shepherdPkg) {
		return false
	}
	// The first element of the import path: up to the first slash, or for
	// a path without one ("testing.tRunner") the package name itself.
	var first string
	if i := strings.IndexByte(fn, '/'); i >= 0 {
		first = fn[:i]
	} else {
		first, _, _ = strings.Cut(fn, ".")
	}
	return strings.Contains(first, ".")
}

// isPlumbingStack reports whether a stack is shepherd's or the standard
// library's own: blocked in shepherd (a supervisor's loop, Main, a Wait
// for tasks listed on their own) or running only the standard library and
// shepherd (an idle server connection, the debug page's own request).
// Such goroutines are how the program runs, not what it does, and the page
// folds them away.
func isPlumbingStack(frames []goroutines.Frame) bool {
	for _, f := range frames {
		switch {
		case strings.HasPrefix(f.Function, shepherdPkg):
			return true
		case isProgram(f.Function):
			return false
		}
	}
	return true
}

// mergeTasks folds the sets listed under one node that differ only in the
// name of the task that owns them: a fan-out of "fetch 1" … "fetch 500"
// blocked at the same line is one entry with a count, not five hundred.
// Sets with the node's own path are left as they are.
func mergeTasks(gs []debugGoroutines) []debugGoroutines {
	out := gs[:0]
	at := map[string]int{}
	for _, g := range gs {
		if g.Own || g.Path == "" {
			out = append(out, g)
			continue
		}
		parent := g.Path[:max(strings.LastIndexByte(g.Path, '/'), 0)]
		k := parent + "\x00" + g.key
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			g.Tasks = 1
			out = append(out, g)
			continue
		}
		m := &out[i]
		m.Count += g.Count
		m.Leaked += g.Leaked
		m.Tasks++
		m.Waits = mergeWaits(m.Waits, g.Waits)
		if naturalLess(g.Path, m.Path) {
			m.Path, g.Path = g.Path, m.Path
		}
		if m.LastPath == "" || naturalLess(m.LastPath, g.Path) {
			m.LastPath = g.Path
		}
	}
	for i := range out {
		if out[i].Tasks == 1 {
			out[i].Tasks = 0
		}
	}
	return out
}

func mergeWaits(a, b []debugWait) []debugWait {
	for _, w := range b {
		i := slices.IndexFunc(a, func(x debugWait) bool { return x.Reason == w.Reason })
		if i < 0 {
			a = append(a, w)
			continue
		}
		a[i].Count += w.Count
		a[i].Longest = max(a[i].Longest, w.Longest)
	}
	return a
}

// splitPlumbing puts the plumbing sets of gs after the others and returns
// how many goroutines they hold.
func splitPlumbing(gs []debugGoroutines) (program, plumbing []debugGoroutines, n int) {
	for _, g := range gs {
		if g.Plumbing {
			plumbing = append(plumbing, g)
			n += g.Count
		} else {
			program = append(program, g)
		}
	}
	return program, plumbing, n
}

// naturalLess orders names as people count: "fetch 9" before "fetch 10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
