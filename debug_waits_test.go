package shepherd_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/shepherd-go/shepherd"
)

//go:noinline
func fetchWait(release chan struct{}) { <-release }

// sharedWait is one stack that two services both block at.
//
//go:noinline
func sharedWait(release chan struct{}) shepherd.ServiceFunc {
	return func(ctx context.Context) error { <-release; return nil }
}

// runDebugTree runs a tree whose api service fans out 50 tasks that all
// wait at one line, and two services that wait at one shared stack. It
// returns the supervisor and a function that stops everything.
func runDebugTree(t *testing.T) (*shepherd.Supervisor, func()) {
	t.Helper()
	release := make(chan struct{})
	sup := shepherd.NewSupervisor("app")
	started := make(chan struct{})
	sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error {
		g := shepherd.NewGroup(ctx)
		for i := range 50 {
			g.Go("fetch "+strconv.Itoa(i), func(ctx context.Context) error { fetchWait(release); return nil })
		}
		close(started)
		return g.Wait()
	}))
	sup.Add("a", sharedWait(release))
	sup.Add("b", sharedWait(release))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	<-started
	eventually(t, func() bool {
		api := stacksIn(debugTree(t, shepherd.DebugHandler(sup), "").Roots[0].Children[0].Goroutines, "fetchWait")
		return len(api) == 1 && api[0].Count == 50
	})
	return sup, func() {
		close(release)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestDebugGroupsFanOutAndFoldsPlumbing: fifty tasks blocked at one line
// are one entry with a count and the range of their names; the program's
// frame is marked; the wait reason is given; the supervisor's own loop is
// plumbing, folded away in the text form.
func TestDebugGroupsFanOutAndFoldsPlumbing(t *testing.T) {
	sup, stop := runDebugTree(t)
	defer stop()
	h := shepherd.DebugHandler(sup)
	page := debugTree(t, h, "")
	sets := stacksIn(page.Roots[0].Children[0].Goroutines, "fetchWait")
	if len(sets) != 1 {
		t.Fatalf("sets with fetchWait under app/api = %+v; want one", sets)
	}
	s := sets[0]
	if s.Count != 50 || s.Tasks != 50 || s.Path != "app/api/fetch 0" || s.LastPath != "app/api/fetch 49" {
		t.Errorf("fan-out set: count %d, tasks %d, %q … %q; want 50, 50, \"app/api/fetch 0\" … \"app/api/fetch 49\"", s.Count, s.Tasks, s.Path, s.LastPath)
	}
	if len(s.Waits) != 1 || s.Waits[0].Reason != "chan receive" || s.Waits[0].Count != 50 {
		t.Errorf("fan-out waits = %+v; want 50 on chan receive", s.Waits)
	}
	if f := s.Frames[0]; !strings.HasSuffix(f.Function, ".fetchWait") || !f.Program {
		t.Errorf("first frame = %+v; want fetchWait marked as the program's", f)
	}
	var loops []debugJSONStacks
	for _, sets := range [][]debugJSONStacks{page.Roots[0].Goroutines, page.Other, page.Unowned} {
		loops = append(loops, stacksIn(sets, "(*Supervisor).supervise")...)
	}
	if len(loops) == 0 || !loops[0].Plumbing {
		t.Errorf("the supervisor's loop = %+v; want it listed, as plumbing", loops)
	}
	text := get(t, h, "GET", "/").Body.String()
	for _, want := range []string{"50 goroutines of app/api/fetch 0 … app/api/fetch 49 (50 tasks)", "waiting: 50 chan receive", "> github.com/shepherd-go/shepherd_test.fetchWait", "plumbing, folded (?plumbing=1 shows them)"} {
		if !strings.Contains(text, want) {
			t.Errorf("text form lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "shepherd.(*Supervisor).supervise") {
		t.Errorf("text form shows the supervisor's loop; it is plumbing and folded:\n%s", text)
	}
	if text := get(t, h, "GET", "/?plumbing=1").Body.String(); !strings.Contains(text, "shepherd.(*Supervisor).supervise") {
		t.Errorf("?plumbing=1 does not show the supervisor's loop:\n%s", text)
	}
}

// TestDebugWaitsNeedLabelsForSharedStacks: two services blocked at one
// stack cannot be told apart in the runtime's dump without labels, so the
// page gives them no wait rather than a wrong one; with
// GODEBUG=tracebacklabels=1 each gets its own.
func TestDebugWaitsNeedLabelsForSharedStacks(t *testing.T) {
	sup, stop := runDebugTree(t)
	defer stop()
	h := shepherd.DebugHandler(sup)
	waits := func() (a, b int) {
		page := debugTree(t, h, "")
		for _, g := range page.Roots[0].Children[1].Goroutines {
			for _, w := range g.Waits {
				a += w.Count
			}
		}
		for _, g := range page.Roots[0].Children[2].Goroutines {
			for _, w := range g.Waits {
				b += w.Count
			}
		}
		return a, b
	}
	t.Setenv("GODEBUG", "tracebacklabels=0")
	if a, b := waits(); a != 0 || b != 0 {
		t.Errorf("without labels: waits of app/a %d, app/b %d; want none for a shared stack", a, b)
	}
	t.Setenv("GODEBUG", "tracebacklabels=1")
	if a, b := waits(); a != 1 || b != 1 {
		t.Errorf("with tracebacklabels=1: waits of app/a %d, app/b %d; want 1 each", a, b)
	}
}
