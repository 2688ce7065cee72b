package shepherd_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// journal records what services did, in order.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	j.lines = append(j.lines, s)
	j.mu.Unlock()
}

func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.lines)
}

// recorded is a service that journals its start and the moment it saw its
// context cancelled, then returns the context's error. It signals
// readiness after journaling, so journals show the exact start order.
func recorded(j *journal, name string) shepherd.ServiceFunc {
	return func(ctx context.Context) error {
		j.add("start " + name)
		shepherd.Ready(ctx)
		<-ctx.Done()
		j.add("stop " + name)
		return ctx.Err()
	}
}

func TestFirstFailureStopsSiblingsInReverseOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app")
		for _, n := range []string{"a", "b", "c"} {
			sup.Add(n, recorded(&j, n), shepherd.AwaitReady(30*time.Second))
		}
		fail := make(chan struct{})
		sup.Add("d", shepherd.ServiceFunc(func(ctx context.Context) error {
			j.add("start d")
			shepherd.Ready(ctx)
			<-fail
			return errBoom
		}), shepherd.AwaitReady(30*time.Second))
		sup.Add("e", recorded(&j, "e"), shepherd.AwaitReady(30*time.Second))
		done := make(chan error)
		go func() { done <- sup.Run(context.Background()) }()
		synctest.Wait()
		close(fail)
		err := <-done
		want := []string{"start a", "start b", "start c", "start d", "start e", "stop e", "stop c", "stop b", "stop a"}
		if got := j.get(); !slices.Equal(got, want) {
			t.Fatalf("journal = %q;\nwant      %q", got, want)
		}
		if got, want := err.Error(), `task "app/d": boom`; got != want {
			t.Fatalf("Run() = %q; want %q", got, want)
		}
	})
}

// slowStopper stops only when told to, so the test can see that the
// services before it wait their turn.
type slowStopper struct {
	j       *journal
	name    string
	release chan struct{}
	stop    chan struct{}
}

func (s *slowStopper) Run(ctx context.Context) error {
	s.j.add("start " + s.name)
	<-s.stop
	return nil
}

func (s *slowStopper) Stop(ctx context.Context) error {
	s.j.add("stopping " + s.name)
	<-s.release
	s.j.add("stopped " + s.name)
	close(s.stop)
	return nil
}

func TestStopIsOneAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app")
		sup.Add("pool", recorded(&j, "pool"), shepherd.AwaitReady(30*time.Second))
		api := &slowStopper{j: &j, name: "api", release: make(chan struct{}), stop: make(chan struct{})}
		sup.Add("api", api)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		cancel()
		synctest.Wait()
		// api is draining: pool must not have been told to stop yet.
		if got, want := j.get(), []string{"start pool", "start api", "stopping api"}; !slices.Equal(got, want) {
			t.Fatalf("while api drains, journal = %q; want %q", got, want)
		}
		close(api.release)
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v; want nil after a clean stop", err)
		}
		want := []string{"start pool", "start api", "stopping api", "stopped api", "stop pool"}
		if got := j.get(); !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
	})
}

func TestReadinessOrdersStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app")
		sup.Add("db", shepherd.ServiceFunc(func(ctx context.Context) error {
			j.add("db warming")
			time.Sleep(time.Second) // a slow warm-up
			j.add("db ready")
			shepherd.Ready(ctx)
			<-ctx.Done()
			return nil
		}), shepherd.AwaitReady(30*time.Second))
		sup.Add("api", recorded(&j, "api"), shepherd.AwaitReady(30*time.Second))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		time.Sleep(500 * time.Millisecond)
		if got := j.get(); slices.Contains(got, "start api") {
			t.Fatalf("api started before db was ready: %q", got)
		}
		time.Sleep(time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := []string{"db warming", "db ready", "start api", "stop api"}
		if got := j.get(); !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
	})
}

func TestAwaitReadyTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app")
		var j journal
		sup.Add("first", recorded(&j, "first"), shepherd.AwaitReady(30*time.Second))
		sup.Add("never ready", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		}), shepherd.AwaitReady(5*time.Second))
		sup.Add("later", recorded(&j, "later"), shepherd.AwaitReady(30*time.Second))
		start := time.Now()
		err := sup.Run(context.Background())
		if got, want := err.Error(), `task "app/never ready": not ready after 5s (AwaitReady)`; got != want {
			t.Fatalf("Run() = %q; want %q", got, want)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Fatalf("Run took %v; want the 5s start timeout", d)
		}
		if got, want := j.get(), []string{"start first", "stop first"}; !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
	})
}

func TestBusyPortFailsStartFast(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := busy.Close(); err != nil {
			t.Error(err)
		}
	})
	var j journal
	sup := shepherd.NewSupervisor("app")
	sup.Add("worker", recorded(&j, "worker"), shepherd.AwaitReady(30*time.Second))
	sup.Add("api", shepherd.HTTPServer(&http.Server{Addr: busy.Addr().String()}))
	sup.Add("after", recorded(&j, "after"), shepherd.AwaitReady(30*time.Second))
	start := time.Now()
	err = sup.Run(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), `task "app/api": listen tcp `) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Run() = %v; want the api's listen failure", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Run took %v to fail; want it at once", d)
	}
	if got, want := j.get(), []string{"start worker", "stop worker"}; !slices.Equal(got, want) {
		t.Fatalf("journal = %q; want %q (later services never started)", got, want)
	}
}

// budgetStopper records the deadline its Stop received.
type budgetStopper struct {
	stopped  chan struct{}
	deadline time.Time
	hasDL    bool
}

func (b *budgetStopper) Run(ctx context.Context) error { <-b.stopped; return nil }
func (b *budgetStopper) Stop(ctx context.Context) error {
	b.deadline, b.hasDL = ctx.Deadline()
	close(b.stopped)
	return nil
}

func TestStopperGetsRemainingBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(20*time.Second))
		first := &budgetStopper{stopped: make(chan struct{})}
		sup.Add("first", first)
		// Takes 3s to stop, eating into the budget left for first.
		sup.Add("slow", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(3 * time.Second)
			return nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		cancel()
		stopAt := time.Now()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// The budget is 20s; the last tenth (capped at 1s) is kept for
		// forcing, so a Stopper's deadline is the soft deadline at 19s.
		want := stopAt.Add(19 * time.Second)
		if !first.hasDL || !first.deadline.Equal(want) {
			t.Fatalf("Stop ctx deadline = %v (set: %v); want %v (19s after the stop began)", first.deadline, first.hasDL, want)
		}
	})
}

// hangingStopper's Stop never returns until the test is over.
type hangingStopper struct{ release chan struct{} }

func (h *hangingStopper) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (h *hangingStopper) Stop(ctx context.Context) error {
	blockedInStop(h.release)
	return nil
}

//go:noinline
func blockedInStop(release chan struct{}) { <-release }

func TestHangingStopReportedAndOthersStillStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(10*time.Second))
		sup.Add("before", recorded(&j, "before"), shepherd.AwaitReady(30*time.Second))
		h := &hangingStopper{release: make(chan struct{})}
		defer func() { close(h.release); synctest.Wait() }()
		sup.Add("hang", h)
		sup.Add("after", recorded(&j, "after"), shepherd.AwaitReady(30*time.Second))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		cancel()
		began := time.Now()
		err := <-done
		if d := time.Since(began); d != 10*time.Second {
			t.Fatalf("Run returned %v after the stop began; want the 10s budget", d)
		}
		var stuck *shepherd.StuckError
		if !errors.As(err, &stuck) {
			t.Fatalf("Run() = %v; want a *StuckError", err)
		}
		if len(stuck.Tasks) != 1 || stuck.Tasks[0].Path != "app/hang" {
			t.Fatalf("stuck tasks = %+v; want only app/hang", stuck.Tasks)
		}
		if !strings.Contains(stuck.Report(), "shepherd_test.blockedInStop") {
			t.Fatalf("report does not show where Stop blocks:\n%s", stuck.Report())
		}
		if !strings.Contains(err.Error(), `"app/hang" (blocked in github.com/shepherd-go/shepherd_test.blockedInStop at `) {
			t.Fatalf("Run() = %q; want it to name the stuck service and where it blocks", err)
		}
		if got, want := j.get(), []string{"start before", "start after", "stop after", "stop before"}; !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q (the others stopped despite the hang)", got, want)
		}
	})
}

func TestRawGoroutineInStuckReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer func() { close(release); synctest.Wait() }()
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(time.Second))
		sup.Add("leaky", shepherd.ServiceFunc(func(ctx context.Context) error {
			go blockedInRawGo(release) // no owner but the label it inherits
			<-ctx.Done()
			blockedInService(release)
			return nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		cancel()
		var stuck *shepherd.StuckError
		if err := <-done; !errors.As(err, &stuck) {
			t.Fatalf("Run() = %v; want a *StuckError", err)
		}
		report := stuck.Report()
		for _, fn := range []string{"shepherd_test.blockedInRawGo", "shepherd_test.blockedInService"} {
			if !strings.Contains(report, fn) {
				t.Errorf("report lacks %s:\n%s", fn, report)
			}
		}
		for _, g := range stuck.Tasks[0].Goroutines {
			if g.Path != "app/leaky" {
				t.Errorf("goroutine owned by %q in the report of app/leaky", g.Path)
			}
		}
	})
}

//go:noinline
func blockedInService(release chan struct{}) { <-release }

func TestNestedTreeStopsLeavesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		paths := make(chan string, 10)
		pathOf := func(name string) shepherd.ServiceFunc {
			return func(ctx context.Context) error {
				paths <- shepherd.Path(ctx)
				return recorded(&j, name)(ctx)
			}
		}
		workers := shepherd.NewSupervisor("workers")
		workers.Add("reports", pathOf("reports"), shepherd.AwaitReady(30*time.Second))
		workers.Add("emails", pathOf("emails"), shepherd.AwaitReady(30*time.Second))
		mid := shepherd.NewSupervisor("mid")
		mid.Add("workers", workers)
		mid.Add("cache", pathOf("cache"), shepherd.AwaitReady(30*time.Second))
		app := shepherd.NewSupervisor("app")
		app.Add("db", pathOf("db"), shepherd.AwaitReady(30*time.Second))
		app.Add("backend", mid)
		app.Add("api", pathOf("api"), shepherd.AwaitReady(30*time.Second))

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- app.Run(ctx) }()
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		close(paths)
		var got []string
		for p := range paths {
			got = append(got, p)
		}
		wantPaths := []string{"app/db", "app/backend/workers/reports", "app/backend/workers/emails", "app/backend/cache", "app/api"}
		if !slices.Equal(got, wantPaths) {
			t.Fatalf("paths = %q; want %q", got, wantPaths)
		}
		want := []string{
			"start db", "start reports", "start emails", "start cache", "start api",
			"stop api", "stop cache", "stop emails", "stop reports", "stop db",
		}
		if got := j.get(); !slices.Equal(got, want) {
			t.Fatalf("journal = %q;\nwant      %q", got, want)
		}
	})
}

func TestNestedFailurePathAndPropagation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := shepherd.NewSupervisor("inner")
		inner.Add("reports", shepherd.ServiceFunc(func(ctx context.Context) error { return errBoom }))
		app := shepherd.NewSupervisor("app")
		var j journal
		app.Add("other", recorded(&j, "other"), shepherd.AwaitReady(30*time.Second))
		app.Add("workers", inner)
		err := app.Run(context.Background())
		if got, want := err.Error(), `task "app/workers/reports": boom`; got != want {
			t.Fatalf("Run() = %q; want %q", got, want)
		}
	})
}

type panickyStopper struct{}

func (panickyStopper) Run(ctx context.Context) error  { <-ctx.Done(); return nil }
func (panickyStopper) Stop(ctx context.Context) error { panic("stop exploded") }

func TestPanicsAreFailures(t *testing.T) {
	t.Run("Run", func(t *testing.T) {
		sup := shepherd.NewSupervisor("app")
		sup.Add("bad", shepherd.ServiceFunc(func(ctx context.Context) error { panic("run exploded") }))
		var pe *shepherd.PanicError
		if err := sup.Run(context.Background()); !errors.As(err, &pe) || pe.Task != "app/bad" {
			t.Fatalf("Run() = %v; want a *PanicError for app/bad", err)
		}
	})
	t.Run("Stop", func(t *testing.T) {
		sup := shepherd.NewSupervisor("app")
		sup.Add("bad", panickyStopper{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		eventually(t, func() bool { return sup.Snapshot().Children[0].State == shepherd.StateRunning })
		cancel()
		err := <-done
		var pe *shepherd.PanicError
		if !errors.As(err, &pe) || pe.Task != "app/bad" || pe.Value != "stop exploded" {
			t.Fatalf("Run() = %v; want the Stop panic as a *PanicError", err)
		}
	})
	t.Run("hook", func(t *testing.T) {
		// The hook belongs to app and is inherited by app/workers: its
		// panic on an event deep in the tree fails app, which stops the
		// service that would otherwise run until cancelled.
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(func(e shepherd.Event) {
			if e.State == shepherd.StateRunning && e.Path == "app/workers/reports" {
				panic("hook exploded")
			}
		}))
		sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
		workers := shepherd.NewSupervisor("workers")
		workers.Add("reports", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
		sup.Add("workers", workers)
		err := sup.Run(context.Background())
		var pe *shepherd.PanicError
		if !errors.As(err, &pe) || pe.Value != "hook exploded" || pe.Task != "app/workers/reports (OnEvent hook)" {
			t.Fatalf("Run() = %v; want the hook's panic as a *PanicError naming the event's path", err)
		}
	})
	t.Run("hook while stopping", func(t *testing.T) {
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(func(e shepherd.Event) {
			if e.State == shepherd.StateStopping {
				panic("hook exploded")
			}
		}))
		sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		eventually(t, func() bool { return sup.Snapshot().Children[0].State == shepherd.StateRunning })
		cancel()
		var pe *shepherd.PanicError
		if err := <-done; !errors.As(err, &pe) || pe.Value != "hook exploded" {
			t.Fatalf("Run() = %v; want the hook's panic, too late to stop anything, still reported", err)
		}
	})
}
