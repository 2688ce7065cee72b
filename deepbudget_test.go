package shepherd_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

func TestDeepChainKeepsOneBudget(t *testing.T) {
	// The budget is one deadline for the whole tree: a chain of 100
	// supervisors with a stuck leaf at the bottom returns within the
	// root's budget, plus a tenth at most, however deep the leaf is.
	const budget = 500 * time.Millisecond
	// Real time, not a synctest bubble: what stretches a deep stop is the
	// work each level does (stuck reports read every goroutine's stack),
	// which a bubble's clock does not see.
	func() {
		release := make(chan struct{})
		defer close(release)
		leaf := shepherd.ServiceFunc(func(context.Context) error { <-release; return nil })
		var svc shepherd.Service = leaf
		for i := 99; i > 0; i-- {
			s := shepherd.NewSupervisor("s" + strconv.Itoa(i))
			s.Add("next", svc)
			svc = s
		}
		root := shepherd.NewSupervisor("root", shepherd.ShutdownTimeout(budget))
		root.Add("next", svc)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- root.Run(ctx) }()
		// The root's service is running once the whole chain below it is.
		spinUntil(t, func() bool {
			st := root.Snapshot()
			return len(st.Children) == 1 && st.Children[0].State == shepherd.StateRunning
		})
		start := time.Now()
		cancel()
		err := <-errc
		// Under the race detector, reading the goroutine profile for the
		// stuck report takes longer than the tenth allowed: only the
		// result is checked there.
		if took := time.Since(start); took > budget+budget/10 && !raceEnabled {
			t.Errorf("Run returned %v after the stop began (%v); want within %v", took, err, budget+budget/10)
		}
		var se *shepherd.StuckError
		if !errors.As(err, &se) {
			t.Fatalf("Run() = %v; want a *StuckError for the leaf", err)
		}
	}()
}
