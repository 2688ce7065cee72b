package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/shepherd-go/shepherd"

	"github.com/shepherd-go/shepherd/goroutines"
)

var errBoom = errors.New("boom")

func TestGroupNoFailureReturnsNil(t *testing.T) {
	g := shepherd.NewGroup(context.Background())
	var n atomic.Int32
	for range 10 {
		g.Go("add", func(context.Context) error { n.Add(1); return nil })
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait() = %v; want nil", err)
	}
	if n.Load() != 10 {
		t.Fatalf("ran %d tasks; want 10", n.Load())
	}
}

func TestFirstFailureCancelsWithCause(t *testing.T) {
	g := shepherd.NewGroup(context.Background())
	sawCancel := make(chan struct{})
	release := make(chan struct{})
	var slowReturned atomic.Bool
	g.Go("slow", func(ctx context.Context) error {
		<-ctx.Done()
		if !errors.Is(context.Cause(ctx), errBoom) {
			t.Errorf("context.Cause(ctx) = %v; want it to wrap %v", context.Cause(ctx), errBoom)
		}
		close(sawCancel)
		// Slow to finish after seeing the cancellation: Wait must not
		// return before this task has.
		<-release
		slowReturned.Store(true)
		return ctx.Err()
	})
	g.Go("fail", func(context.Context) error { return errBoom })

	done := make(chan error)
	go func() { done <- g.Wait() }()
	<-sawCancel
	select {
	case err := <-done:
		t.Fatalf("Wait() returned %v while a task was still running", err)
	default:
	}
	close(release)
	err := <-done
	if !slowReturned.Load() {
		t.Fatal("Wait returned before the slow task returned")
	}
	if !errors.Is(err, errBoom) {
		t.Fatalf("Wait() = %v; want it to wrap %v", err, errBoom)
	}
	if got, want := err.Error(), `task "fail": boom`; got != want {
		t.Fatalf("Wait() = %q; want %q", got, want)
	}
	var te *shepherd.TaskError
	if !errors.As(err, &te) || te.Path != "fail" {
		t.Fatalf("errors.As(%v, *TaskError) path = %v; want \"fail\"", err, te)
	}
}

func TestIndependentFailuresCombinedEchoesDropped(t *testing.T) {
	errLater := errors.New("later")
	g := shepherd.NewGroup(context.Background())
	failed := make(chan struct{})
	g.Go("first", func(context.Context) error { defer close(failed); return errBoom })
	<-failed
	err := g.Wait()
	if got, want := err.Error(), `task "first": boom`; got != want {
		t.Fatalf("Wait() = %q; want %q", got, want)
	}

	g = shepherd.NewGroup(context.Background())
	start := make(chan struct{})
	echo := func(name string, f func(ctx context.Context) error) {
		g.Go(name, func(ctx context.Context) error {
			<-start
			<-ctx.Done()
			return f(ctx)
		})
	}
	echo("canceled", func(ctx context.Context) error { return ctx.Err() })
	echo("cause", func(ctx context.Context) error { return context.Cause(ctx) })
	echo("wrapped", func(ctx context.Context) error { return fmt.Errorf("read: %w", ctx.Err()) })
	echo("independent", func(ctx context.Context) error { return errLater })
	g.Go("first", func(context.Context) error { <-start; return errBoom })
	close(start)
	err = g.Wait()
	if got, want := err.Error(), `task "first": boom; task "independent": later`; got != want {
		t.Fatalf("Wait() = %q; want %q", got, want)
	}
	if !errors.Is(err, errBoom) || !errors.Is(err, errLater) {
		t.Fatalf("Wait() = %v; want it to wrap both failures", err)
	}
}

func TestParentCancelReportsCause(t *testing.T) {
	errShutdown := errors.New("shutdown")
	parent, cancel := context.WithCancelCause(context.Background())
	g := shepherd.NewGroup(parent)
	started := make(chan struct{})
	g.Go("wait", func(ctx context.Context) error { close(started); <-ctx.Done(); return ctx.Err() })
	<-started
	cancel(errShutdown)
	err := g.Wait()
	if !errors.Is(err, errShutdown) {
		t.Fatalf("Wait() = %v; want the parent's cause %v", err, errShutdown)
	}

	// All tasks finished before the cancel: nothing was lost, so nil.
	parent, cancel = context.WithCancelCause(context.Background())
	defer cancel(nil)
	g = shepherd.NewGroup(parent)
	finished := make(chan struct{})
	g.Go("quick", func(context.Context) error { close(finished); return nil })
	<-finished
	cancel(errShutdown)
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait() = %v; want nil when every task finished", err)
	}
}

func TestGoAfterFailureStartsNothing(t *testing.T) {
	g := shepherd.NewGroup(context.Background(), shepherd.Limit(1))
	failed := make(chan struct{})
	g.Go("fail", func(ctx context.Context) error { defer close(failed); return errBoom })
	<-failed
	for g.Context().Err() == nil {
		runtime.Gosched()
	}
	var ran atomic.Bool
	g.Go("late", func(context.Context) error { ran.Store(true); return nil })
	if g.TryGo("late", func(context.Context) error { ran.Store(true); return nil }) {
		t.Fatal("TryGo after failure = true; want false")
	}
	if err := g.Wait(); !errors.Is(err, errBoom) {
		t.Fatalf("Wait() = %v; want %v", err, errBoom)
	}
	if ran.Load() {
		t.Fatal("a task started after the group failed")
	}
}

func TestBlockedGoReturnsWhenGroupCancelled(t *testing.T) {
	g := shepherd.NewGroup(context.Background(), shepherd.Limit(1))
	release := make(chan struct{})
	g.Go("holder", func(ctx context.Context) error { <-release; return errBoom })
	returned := make(chan struct{})
	go func() {
		g.Go("blocked", func(context.Context) error { t.Error("blocked task ran"); return nil })
		close(returned)
	}()
	close(release) // holder fails, cancelling the group while Go waits for its slot
	<-returned
	if err := g.Wait(); !errors.Is(err, errBoom) {
		t.Fatalf("Wait() = %v; want %v", err, errBoom)
	}
}

func TestPanicBecomesPanicError(t *testing.T) {
	g := shepherd.NewGroup(context.Background())
	cancelled := make(chan struct{})
	g.Go("sibling", func(ctx context.Context) error { <-ctx.Done(); close(cancelled); return ctx.Err() })
	g.Go("explode", func(context.Context) error { panicHere(); return nil })
	err := g.Wait()
	<-cancelled
	var pe *shepherd.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Wait() = %v (%T); want a *PanicError", err, err)
	}
	if pe.Task != "explode" || pe.Value != "kaboom" {
		t.Fatalf("PanicError{Task: %q, Value: %v}; want {explode, kaboom}", pe.Task, pe.Value)
	}
	stack := pe.Stack()
	if !strings.Contains(stack, "shepherd_test.panicHere") {
		t.Fatalf("Stack() does not contain the panicking function:\n%s", stack)
	}
	if first := strings.SplitN(stack, "\n", 2)[0]; !strings.HasSuffix(first, "panicHere") {
		t.Fatalf("Stack() starts at %q; want the panicking function first", first)
	}
	if got, want := err.Error(), `task "explode" panicked: kaboom`; got != want {
		t.Fatalf("Wait() = %q; want %q", got, want)
	}
}

//go:noinline
func panicHere() { panic("kaboom") }

func TestPanicWithErrorUnwraps(t *testing.T) {
	g := shepherd.NewGroup(context.Background())
	g.Go("explode", func(context.Context) error { panic(errBoom) })
	err := g.Wait()
	if !errors.Is(err, errBoom) {
		t.Fatalf("Wait() = %v; want errors.Is(err, errBoom)", err)
	}
	var re runtime.Error
	g = shepherd.NewGroup(context.Background())
	g.Go("nil map", func(context.Context) error {
		var s []int
		return fmt.Errorf("unreachable: %d", s[len(s)])
	})
	if err := g.Wait(); !errors.As(err, &re) {
		t.Fatalf("Wait() = %v; want a runtime.Error inside", err)
	}
}

func TestGoexitReported(t *testing.T) {
	g := shepherd.NewGroup(context.Background())
	g.Go("goexit", func(context.Context) error { runtime.Goexit(); return nil })
	err := g.Wait()
	if !errors.Is(err, shepherd.ErrGoexit) {
		t.Fatalf("Wait() = %v; want ErrGoexit", err)
	}
	if !strings.Contains(err.Error(), `task "goexit"`) {
		t.Fatalf("Wait() = %q; want it to name the task", err)
	}
}

func TestLimitBoundsConcurrency(t *testing.T) {
	const limit, tasks = 3, 50
	g := shepherd.NewGroup(context.Background(), shepherd.Limit(limit))
	var running, peak atomic.Int32
	for range tasks {
		g.Go("work", func(context.Context) error {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			runtime.Gosched()
			running.Add(-1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > limit || p < 1 {
		t.Fatalf("peak concurrency %d; want 1..%d", p, limit)
	}
}

func TestLimitGoBlocksTryGoRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := shepherd.NewGroup(context.Background(), shepherd.Limit(2))
		release := make(chan struct{})
		hold := func(context.Context) error { <-release; return nil }
		g.Go("a", hold)
		if !g.TryGo("b", hold) {
			t.Fatal("TryGo with a free slot = false; want true")
		}
		if g.TryGo("c", hold) {
			t.Fatal("TryGo at the limit = true; want false")
		}
		var third atomic.Bool
		go g.Go("d", func(context.Context) error { third.Store(true); return nil })
		synctest.Wait()
		if third.Load() {
			t.Fatal("Go at the limit did not block")
		}
		close(release)
		synctest.Wait()
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if !third.Load() {
			t.Fatal("blocked Go never started its task")
		}
	})
}

func TestWaitTwiceReturnsSameResult(t *testing.T) {
	g := shepherd.NewGroup(context.Background())
	g.Go("fail", func(context.Context) error { return errBoom })
	first, second := g.Wait(), g.Wait()
	if first != second {
		t.Fatalf("Wait() = %v, then %v; want the same error", first, second)
	}
}

func TestTaskLabels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := shepherd.NewGroup(context.Background())
		release := make(chan struct{})
		ctxLabel := make(chan string, 1)
		g.Go("labelled", func(ctx context.Context) error {
			v, _ := pprof.Label(ctx, goroutines.Label)
			ctxLabel <- v
			// A raw go statement inside a task inherits the task's label.
			done := make(chan struct{})
			go func() { blockedInRawGo(release); close(done) }()
			<-done
			return nil
		})
		synctest.Wait()
		if v := <-ctxLabel; v != "labelled" {
			t.Errorf("pprof.Label(task ctx) = %q; want \"labelled\"", v)
		}
		if got := ownerOf("blockedInRawGo"); got != "labelled" {
			t.Errorf("raw goroutine owned by %q; want \"labelled\"", got)
		}
		close(release)
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

//go:noinline
func blockedInRawGo(release chan struct{}) { <-release }

// ownerOf returns the shepherd path of the goroutine blocked in the
// function whose name ends with fn.
func ownerOf(fn string) string {
	for _, gs := range goroutines.All() {
		for _, f := range gs.Frames {
			if strings.HasSuffix(f.Function, "."+fn) {
				return gs.Path
			}
		}
	}
	return "<no goroutine in " + fn + ">"
}

func TestNestedGroupExtendsPath(t *testing.T) {
	outer := shepherd.NewGroup(context.Background())
	outer.Go("outer", func(ctx context.Context) error {
		inner := shepherd.NewGroup(ctx)
		inner.Go("inner", func(ctx context.Context) error {
			if p := shepherd.Path(ctx); p != "outer/inner" {
				t.Errorf("Path(ctx) = %q; want \"outer/inner\"", p)
			}
			return errBoom
		})
		return inner.Wait()
	})
	err := outer.Wait()
	if got, want := err.Error(), `task "outer/inner": boom`; got != want {
		t.Fatalf("Wait() = %q; want %q", got, want)
	}
}

func TestMisuseNamesNestedGroup(t *testing.T) {
	g := shepherd.NewGroup(context.Background())
	g.Go("api", func(ctx context.Context) error {
		msg := mustPanic(t, func() { shepherd.NewGroup(ctx).Go("fetch", nil) })
		if want := `shepherd: Group.Go("fetch", nil) in group "api": fn is nil; pass the function the task runs`; msg != want {
			t.Errorf("panic %q; want %q", msg, want)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestCatch(t *testing.T) {
	if err := shepherd.Catch("cb", func() error { return errBoom }); err != errBoom {
		t.Fatalf("Catch(returns errBoom) = %v; want errBoom", err)
	}
	err := shepherd.Catch("cb", func() error { panic("oops") })
	var pe *shepherd.PanicError
	if !errors.As(err, &pe) || pe.Task != "cb" || pe.Value != "oops" {
		t.Fatalf("Catch(panics) = %v; want *PanicError{cb, oops}", err)
	}
}
