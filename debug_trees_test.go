package shepherd_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/shepherd-go/shepherd"

	"github.com/shepherd-go/shepherd/goroutines"
)

// equalNamedRoots runs two supervisors both called "app", each with a
// service "x" blocked in blockedInTask until release is closed. It returns
// once both are blocked, with the supervisors and a function that stops
// them.
func equalNamedRoots(t *testing.T, release chan struct{}) ([]*shepherd.Supervisor, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var dones []chan error
	var roots []*shepherd.Supervisor
	for range 2 {
		sup := shepherd.NewSupervisor("app")
		sup.Add("x", shepherd.ServiceFunc(func(ctx context.Context) error { blockedInTask(release); return nil }))
		done := make(chan error, 1)
		go func() { done <- sup.Run(ctx) }()
		dones = append(dones, done)
		roots = append(roots, sup)
	}
	synctest.Wait()
	return roots, func() {
		close(release)
		cancel()
		for _, done := range dones {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestDebugEqualNamedRoots checks that the debug page tells two trees with
// equal names apart: each root lists its own service's goroutine, never the
// other tree's, although their paths are equal.
func TestDebugEqualNamedRoots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		roots, stop := equalNamedRoots(t, make(chan struct{}))
		defer stop()
		page := debugTree(t, shepherd.DebugHandler(roots...), "")
		if len(page.Roots) != 2 {
			t.Fatalf("roots = %d; want 2", len(page.Roots))
		}
		for i, root := range page.Roots {
			x := findNode([]debugJSONNode{root}, "app/x")
			if x == nil {
				t.Fatalf("root %d has no node app/x: %+v", i, root)
			}
			n := 0
			for _, s := range stacksIn(x.Goroutines, "blockedInTask") {
				n += s.Count
			}
			if n != 1 {
				t.Errorf("root %d: app/x lists %d goroutines in blockedInTask; want 1, its own tree's only", i, n)
			}
		}
	})
}

// TestMainGoroutineInItsTree checks that the goroutine Main runs the root
// supervisor on carries the tree's identity, as the tree's own goroutines
// do: the debug page and the sampler match goroutines to their own tree,
// so without it the root's own goroutine would be listed outside it.
func TestMainGoroutineInItsTree(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	sup := shepherd.NewSupervisor("app")
	sup.Add("x", shepherd.ServiceFunc(func(ctx context.Context) error {
		close(started)
		blockedInTask(release)
		return nil
	}))
	code := make(chan int, 1)
	go func() { code <- shepherd.MainWith(sup, shepherd.MainLogger(discard)) }()
	<-started
	var service, main []goroutines.Stack
	for _, g := range goroutines.All() {
		for _, f := range g.Frames {
			switch {
			case strings.HasSuffix(f.Function, ".blockedInTask"):
				service = append(service, g)
			case strings.HasPrefix(f.Function, "github.com/shepherd-go/shepherd.runMain.func"):
				main = append(main, g)
			default:
				continue
			}
			break
		}
	}
	close(release)
	if c := <-code; c != shepherd.ExitOK {
		t.Fatalf("Main() = %d; want %d", c, shepherd.ExitOK)
	}
	if len(service) != 1 || service[0].Path != "app/x" || service[0].Tree == "" {
		t.Fatalf("the service's goroutine = %+v; want one, of app/x, with a tree", service)
	}
	if len(main) != 1 || main[0].Path != "app" || main[0].Tree != service[0].Tree {
		t.Fatalf("Main's goroutine = %+v; want one, of app, in tree %q like its service", main, service[0].Tree)
	}
}
