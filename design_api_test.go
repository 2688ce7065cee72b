package shepherd_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

// TestDesignCoreAPI keeps DESIGN's contract compiling: it writes out, and
// runs, every line of the "Core API" block of the project's design
// document, as written there (a Logger that discards, and servers on
// 127.0.0.1:0, are the only liberties). A change that breaks a line of the
// contract fails to compile here before it reaches a user.
func TestDesignCoreAPI(t *testing.T) {
	ctx := context.Background()

	// Group
	t.Run("Group", func(t *testing.T) {
		release := make(chan struct{})
		blocked := func(ctx context.Context) error { <-release; return nil }
		fn := blocked
		g := shepherd.NewGroup(ctx, shepherd.Limit(8))
		g.Go("fetch users", func(ctx context.Context) error { <-release; return nil })
		ok := g.TryGo("fetch orders", fn) // false when at Limit
		if !ok {
			t.Fatal(`TryGo("fetch orders") = false with 1 of 8 tasks running`)
		}
		for range 6 {
			g.Go("more", blocked)
		}
		if g.TryGo("one too many", fn) {
			t.Error("TryGo = true with 8 of 8 tasks running; want false at Limit")
		}
		close(release)
		err := g.Wait()
		if err != nil {
			t.Fatalf("Wait() = %v", err)
		}
	})

	// batch helpers, results in input order
	t.Run("Map and ForEach", func(t *testing.T) {
		type Item = int
		type Res = string
		items := []Item{3, 1, 2}
		out, err := shepherd.Map(ctx, items, 16, func(ctx context.Context, it Item) (Res, error) { return strings.Repeat("x", it), nil })
		if err != nil || !slices.Equal(out, []Res{"xxx", "x", "xx"}) {
			t.Fatalf("Map = %q, %v; want [xxx x xx] in input order", out, err)
		}
		var sum atomic.Int64
		err = shepherd.ForEach(ctx, items, 16, func(ctx context.Context, it Item) error { sum.Add(int64(it)); return nil })
		if err != nil || sum.Load() != 6 {
			t.Fatalf("ForEach: sum %d, %v; want 6, nil", sum.Load(), err)
		}
	})

	// Supervisor of long-running services: the three types are as written.
	var _ shepherd.Service = interface {
		Run(ctx context.Context) error
	}(nil)
	var _ interface {
		Run(ctx context.Context) error
	} = shepherd.Service(nil)
	var _ shepherd.Stopper = interface {
		Stop(ctx context.Context) error
	}(nil)
	var _ interface {
		Stop(ctx context.Context) error
	} = shepherd.Stopper(nil)
	_ = (func(ctx context.Context) error)(shepherd.ServiceFunc(nil))

	t.Run("Supervisor and Pool", func(t *testing.T) {
		var handled atomic.Int64
		handle := func(ctx context.Context, item string) error { handled.Add(1); return nil }
		apiSrv := &http.Server{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second}
		debugSrv := &http.Server{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()

		// Worker pool
		pool := shepherd.NewPool("reports", 4, handle, shepherd.QueueSize(1024))
		item := "report 1"
		syncLoop := func(ctx context.Context) error {
			err := pool.Submit(ctx, item) // blocks for room; ErrClosed once draining
			if err != nil {
				return err
			}
			err = pool.TrySubmit(item) // ErrQueueFull instead of blocking
			if err != nil {
				return err
			}
			cancel() // the test's end: stop the tree
			return nil
		}

		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(15*time.Second), shepherd.Logger(slog.New(slog.DiscardHandler)))
		sup.Add("reports", pool)                    // Pool[T] is a Service
		sup.Add("api", shepherd.HTTPServer(apiSrv)) // binds at start, Shutdown on stop
		sup.Add("pprof", shepherd.HTTPServer(debugSrv))
		sup.Add("sync", shepherd.ServiceFunc(syncLoop), shepherd.Restart(shepherd.OnFailure))
		err := sup.Run(ctx) // a Supervisor is a Service: trees nest
		if err != nil {
			t.Fatalf("Run() = %v", err)
		}
		if n := handled.Load(); n != 2 {
			t.Errorf("the pool handled %d items; want the 2 submitted, drained at stop", n)
		}
		var _ shepherd.Service = sup
	})

	t.Run("Main", func(t *testing.T) {
		// Main as a value of the contract's type: a change of its
		// signature fails to compile here.
		exitCode := func(main func(shepherd.Service) int, svc shepherd.Service) int { return main(svc) }
		sup := shepherd.NewSupervisor("app", shepherd.Logger(slog.New(slog.DiscardHandler)))
		sup.Add("once", shepherd.ServiceFunc(func(context.Context) error { return nil }))
		// os.Exit(shepherd.Main(sup)) in a program: here the code is checked.
		if code := exitCode(shepherd.Main, sup); code != shepherd.ExitOK {
			t.Errorf("Main(sup) = %d; want ExitOK (%d) for a tree whose services finished", code, shepherd.ExitOK)
		}
	})

	// Panics
	t.Run("PanicError", func(t *testing.T) {
		g := shepherd.NewGroup(ctx)
		g.Go("boom", func(context.Context) error { panic("boom") })
		err := g.Wait()
		var pe *shepherd.PanicError // Task, Value, Stack; errors.As works
		if !errors.As(err, &pe) {
			t.Fatalf("Wait() = %v; want a *PanicError", err)
		}
		if pe.Task != "boom" || pe.Value != "boom" || !strings.Contains(pe.Stack(), "design_api_test.go") {
			t.Errorf("PanicError{Task: %q, Value: %v}, stack:\n%s\nwant the task, the value and the panicking frame", pe.Task, pe.Value, pe.Stack())
		}
	})
}
