package shepherd

import (
	"context"
	"errors"
	"math"
	"runtime"
	"testing"
	"time"
)

// An immediate restart of a service whose every verdict needs no waiting
// is decided on the goroutine of the run that ended, while the loop sleeps:
// 1,000 restarts wake the loop a handful of times (for the final stop), not
// once per restart. With OneForAll the restart takes the other services
// with it, which only the loop may do, so every exit wakes it.
func TestImmediateRestartsLeaveTheLoopAsleep(t *testing.T) {
	const restarts = 1000
	for _, tc := range []struct {
		strategy  Strategy
		maxTurns  int
		minTurns  int
		decidable bool
	}{
		{OneForOne, 10, 0, true},
		{OneForAll, math.MaxInt, restarts, false},
	} {
		t.Run(tc.strategy.String(), func(t *testing.T) {
			n := 0
			sup := NewSupervisor("app", tc.strategy, MaxRestarts(math.MaxInt, time.Nanosecond))
			sup.Add("flaky", ServiceFunc(func(context.Context) error {
				n++
				if n > restarts {
					return ErrStopTree
				}
				return errors.New("fail")
			}), Restart(Always), Backoff{})
			if got := sup.children[0].decidable; got != tc.decidable {
				t.Fatalf("decidable = %v; want %v", got, tc.decidable)
			}
			if err := sup.Run(context.Background()); !errors.Is(err, ErrStopTree) {
				t.Fatalf("Run() = %v; want ErrStopTree", err)
			}
			if n != restarts+1 {
				t.Fatalf("service ran %d times; want %d", n, restarts+1)
			}
			if sup.turns > tc.maxTurns || sup.turns < tc.minTurns {
				t.Errorf("the loop woke %d times for %d restarts; want %d to %d", sup.turns, restarts, tc.minTurns, tc.maxTurns)
			}
		})
	}
}

// goexitUnwrap is an error whose Unwrap calls runtime.Goexit: judging an
// exit that returned it ends the goroutine that judges.
type goexitUnwrap struct{}

func (goexitUnwrap) Error() string { return "goexitUnwrap" }
func (goexitUnwrap) Unwrap() error { runtime.Goexit(); return nil }

// runtime.Goexit in a method of a service's error, while the service's own
// ending run judges its exit, fails the supervisor with ErrGoexit, and
// leaves nothing behind for the next Run: the service runs again in it.
// Before the fix the dead goroutine's channel stayed the service's, the
// next Run handed its first run to it, and the service never ran.
func TestGoexitWhileJudgingInPlaceLeavesTheNextRunWhole(t *testing.T) {
	n := 0
	var sup *Supervisor
	ranAgain := make(chan struct{})
	sup = NewSupervisor("app", MaxRestarts(math.MaxInt, time.Nanosecond))
	sup.Add("svc", ServiceFunc(func(ctx context.Context) error {
		switch n++; {
		case n < 10:
			return errors.New("fail")
		case n == 10:
			// The loop holds own except while it waits for a message;
			// once this takes and gives it back, the loop waits, and
			// nothing wakes it: this exit is judged here, in place.
			sup.own.Lock()
			sup.own.Unlock()
			return goexitUnwrap{}
		}
		close(ranAgain)
		<-ctx.Done()
		return nil
	}), Restart(Always), Backoff{})
	if err := sup.Run(context.Background()); !errors.Is(err, ErrGoexit) {
		t.Fatalf("Run() = %v; want a failure wrapping ErrGoexit", err)
	}
	res := make(chan error, 1)
	go func() { res <- sup.Run(context.Background()) }()
	select {
	case <-ranAgain:
	case <-time.After(10 * time.Second):
		t.Fatal("the service has not run 10 s into the second Run")
	}
	sup.Stop(context.Background())
	if err := <-res; err != nil {
		t.Fatalf("second Run() = %v; want nil", err)
	}
}
