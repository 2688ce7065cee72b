package shepherd_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/goroutines"
)

// An immediate restart runs on the goroutine of the run that ended: each
// run must still see a fresh start. Runs that return an error, panic and
// call runtime.Goexit take turns; every run carries its service's labels
// and a live context, and the supervisor returns ErrStopTree once the
// last run asks for it, with no goroutine left behind (goleak checks).
func TestImmediateRestartsMixPanicsAndGoexit(t *testing.T) {
	const runs = 60
	n := 0
	var bad []string
	svc := shepherd.ServiceFunc(func(ctx context.Context) error {
		n++
		if p, _ := pprof.Label(ctx, goroutines.Label); p != "app/flaky" {
			bad = append(bad, "context label "+p)
		}
		if ctx.Err() != nil {
			bad = append(bad, "context done at start")
		}
		switch {
		case n > runs:
			return shepherd.ErrStopTree
		case n%3 == 0:
			panic("boom")
		case n%3 == 1:
			runtime.Goexit()
		}
		return errors.New("fail")
	})
	sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(math.MaxInt, time.Nanosecond))
	sup.Add("flaky", svc, shepherd.Restart(shepherd.Always), shepherd.Backoff{})
	err := sup.Run(context.Background())
	if !errors.Is(err, shepherd.ErrStopTree) {
		t.Fatalf("Run() = %v; want ErrStopTree", err)
	}
	if n != runs+1 {
		t.Errorf("service ran %d times; want %d", n, runs+1)
	}
	if len(bad) > 0 {
		t.Errorf("runs saw: %v", bad)
	}
	if got := sup.Snapshot().Children[0].Restarts; got != runs {
		t.Errorf("Snapshot restarts = %d; want %d", got, runs)
	}
}
