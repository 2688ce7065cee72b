package shepherd_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// The tests in this file are the README's "Testing your code" promise:
// a tree runs inside a testing/synctest bubble, its backoffs, budgets and
// drains take virtual time, and the bubble sees every goroutine shepherd
// starts end. They use only the public API, as a user's test would.

// inBubble runs f in a synctest bubble, working around the race runtime's
// crash with synctest timers (see the README's "Testing your code").
func inBubble(t *testing.T, f func(t *testing.T)) {
	if raceEnabled {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	synctest.Test(t, f)
}

func TestSynctestRestartsWithBackoff(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		var runs atomic.Int32
		sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(10, time.Hour))
		sup.Add("flaky", shepherd.ServiceFunc(func(ctx context.Context) error {
			if runs.Add(1) <= 3 {
				return errors.New("flaky")
			}
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: time.Second, Max: time.Minute})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- sup.Run(ctx) }()
		for runs.Load() < 4 {
			time.Sleep(100 * time.Millisecond) // virtual: the bubble's clock
		}
		// Backoff 1 s, 2 s, 4 s before the three restarts, no jitter: the
		// fourth run starts 7 s in, to the tick of the polling above.
		if got := time.Since(start); got < 7*time.Second || got > 7*time.Second+100*time.Millisecond {
			t.Errorf("fourth run after %v; want 7s of backoff", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v; want nil", err)
		}
	})
}

func TestSynctestStopPastBudget(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		release := make(chan struct{})
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(30*time.Second))
		sup.Add("stubborn", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-release // ignores ctx
			return nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		start := time.Now()
		cancel()
		err := <-done
		var stuck *shepherd.StuckError
		if !errors.As(err, &stuck) {
			t.Fatalf("Run = %v; want a *StuckError", err)
		}
		if got := time.Since(start); got != 30*time.Second {
			t.Errorf("Run returned %v after the stop began; want the 30s budget exactly", got)
		}
		// The bubble ends only when every goroutine in it has: the stuck
		// service must be let go, as a test must let go what it blocked.
		close(release)
	})
}

func TestSynctestPoolDrain(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		var handled, handedBack atomic.Int32
		pool := shepherd.NewPool("reports", 2, func(ctx context.Context, n int) error {
			select {
			case <-time.After(time.Second):
				handled.Add(1)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, shepherd.QueueSize(16)).OnUnprocessed(func(int) { handedBack.Add(1) })
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(5*time.Second))
		sup.Add("reports", pool)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait() // the pool runs
		for i := range 8 {
			if err := pool.Submit(context.Background(), i); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
		// Two workers, a second per item, eight items: the drain takes 4 s
		// of the 5 s budget, to the nanosecond, and handles every item.
		if got := time.Since(start); got != 4*time.Second {
			t.Errorf("drain took %v; want 4s", got)
		}
		if h, b := handled.Load(), handedBack.Load(); h != 8 || b != 0 {
			t.Errorf("handled %d, handed back %d; want 8 handled", h, b)
		}
	})
}
