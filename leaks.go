package shepherd

import (
	"strconv"

	"github.com/shepherd-go/shepherd/goroutines"
)

// stackKey identifies a set of goroutines by owner and stack, to match the
// leak profile's entries with the goroutine profile's.
func stackKey(g goroutines.Stack) string {
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
func markLeaked(groups ...[]goroutines.Stack) bool {
	leaked, ok := goroutines.Leaked()
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
func markLeakedIn(byOwner map[string][]goroutines.Stack) {
	groups := make([][]goroutines.Stack, 0, len(byOwner))
	for _, gs := range byOwner {
		groups = append(groups, gs)
	}
	markLeaked(groups...)
}

// leakNote is what a stuck report adds to a set of goroutines of which
// some are proven leaked.
func leakNote(g goroutines.Stack) string {
	switch g.Leaked {
	case 0:
		return ""
	case g.Count:
		return " (proven leaked: they can never return; more budget would not help)"
	}
	return " (" + strconv.Itoa(g.Leaked) + " proven leaked: they can never return; more budget would not help)"
}
