package shepherd

import (
	"context"
	"errors"
	"math"
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
