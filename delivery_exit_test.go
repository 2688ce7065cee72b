package shepherd_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/goroutines"
)

// Once Run has returned, the goroutine that delivered its events carries
// no label of the tree, even if it has not quite exited: a look for what
// still runs (Goroutines, a parent's look for leftovers) does not take it
// for a leftover. Before, it closed its done channel with its labels on,
// and Run could return while it was still there (seen by FuzzSupervisor;
// this test saw it in every run under -race).
func TestDeliveryGoroutineUnlabelledWhenRunReturns(t *testing.T) {
	for i := range 200 {
		sup := shepherd.NewSupervisor("deliv", shepherd.OnEvent(func(shepherd.Event) {}))
		sup.Add("s", shepherd.ServiceFunc(func(context.Context) error { return nil }))
		if err := sup.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, g := range goroutines.All() {
			if strings.HasPrefix(g.Path, "deliv") {
				t.Fatalf("round %d: goroutine of %s still runs after Run returned", i, g.Path)
			}
		}
	}
}
