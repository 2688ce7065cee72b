package shepherd_test

import (
	"testing"
	"testing/synctest"

	"github.com/shepherd-go/shepherd"
)

// TestDebugWaitsOfEqualNamedRoots: with GODEBUG=tracebacklabels=1 the
// runtime's dump names each goroutine's owner, and the page matches waits
// to goroutines by owner. Two trees with equal names and one stack must
// each get their own goroutine's wait, not both trees'.
func TestDebugWaitsOfEqualNamedRoots(t *testing.T) {
	t.Setenv("GODEBUG", "tracebacklabels=1")
	synctest.Test(t, func(t *testing.T) {
		roots, stop := equalNamedRoots(t, make(chan struct{}))
		defer stop()
		page := debugTree(t, shepherd.DebugHandler(roots...), "")
		for i, root := range page.Roots {
			x := findNode([]debugJSONNode{root}, "app/x")
			if x == nil {
				t.Fatalf("root %d has no node app/x: %+v", i, root)
			}
			waits := 0
			for _, s := range stacksIn(x.Goroutines, "blockedInTask") {
				for _, w := range s.Waits {
					waits += w.Count
				}
			}
			if waits != 1 {
				t.Errorf("root %d: app/x's goroutine in blockedInTask has %d waits; want 1, its own", i, waits)
			}
		}
	})
}
