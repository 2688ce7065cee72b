package shepherd_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shepherd-go/shepherd"
)

// TestGoRacingWaitIsReported races a Go from outside the group with Wait,
// the documented misuse. Whichever wins, the outcome must be one of the two
// the contract allows: the task was counted before Wait returned (so it ran
// to its end first), or Go panicked naming the fix. A task that starts after
// Wait returned, or a Go that silently does nothing, is a lost task.
func TestGoRacingWaitIsReported(t *testing.T) {
	rounds := 3000
	if testing.Short() {
		rounds = 300
	}
	for range rounds {
		g := shepherd.NewGroup(context.Background())
		var ran atomic.Bool
		g.Go("first", func(context.Context) error { return nil })
		goDone := make(chan string)
		go func() {
			defer func() {
				r, _ := recover().(string)
				goDone <- r
			}()
			g.Go("late", func(context.Context) error { ran.Store(true); return nil })
		}()
		if err := g.Wait(); err != nil {
			t.Fatalf("Wait() = %v; want nil", err)
		}
		ranBeforeWait := ran.Load()
		msg := <-goDone
		switch {
		case msg != "":
			if !strings.Contains(msg, `Group.Go("late") after Wait returned`) || !strings.Contains(msg, "start every task before Wait") {
				t.Fatalf("Go racing Wait panicked with %q; want a message naming the fix", msg)
			}
		case !ranBeforeWait:
			t.Fatal("Go racing Wait neither panicked nor ran its task before Wait returned: the task was lost or outlived Wait")
		}
	}
}

// A panic is a failure even when its value is the context's own error:
// only a task that returns that error is telling that it was stopped.
func TestPanicWithContextErrorIsAFailure(t *testing.T) {
	g := shepherd.NewGroup(context.Background())
	waiting := make(chan struct{})
	g.Go("panic", func(ctx context.Context) error {
		close(waiting)
		<-ctx.Done()
		panic(ctx.Err())
	})
	g.Go("fail", func(context.Context) error { <-waiting; return errBoom })
	err := g.Wait()
	var pe *shepherd.PanicError
	if !errors.As(err, &pe) || pe.Task != "panic" || !errors.Is(err, errBoom) {
		t.Fatalf("Wait() = %v; want the failure of \"fail\" and the panic of \"panic\"", err)
	}
}

// A panic costs the library one allocation: the *PanicError, with its
// stack's program counters inside.
func TestPanicErrorDoesNotAllocateTwice(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := shepherd.Catch("cb", func() error { panic(errBoom) }); err == nil {
			t.Fatal("Catch returned nil for a panic")
		}
	})
	if allocs > 1 {
		t.Fatalf("a recovered panic allocates %v times; want 1", allocs)
	}
}
