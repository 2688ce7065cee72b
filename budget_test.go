package shepherd_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
	"go.uber.org/multierr"
)

// slowToStop returns d after its context is cancelled.
func slowToStop(d time.Duration) shepherd.ServiceFunc {
	return func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(d)
		return nil
	}
}

func TestStopDeadlineCapsShutdownUnderWay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(time.Minute))
		sup.Add("slow", slowToStop(30*time.Second))
		sup.Add("fail", shepherd.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(time.Second)
			return errBoom
		}))
		errc := make(chan error, 1)
		start := time.Now()
		go func() { errc <- sup.Run(context.Background()) }()
		time.Sleep(2 * time.Second) // the failure's shutdown is under way
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		sup.Stop(ctx)
		err := <-errc
		if took := time.Since(start); took != 3*time.Second {
			t.Fatalf("Run returned after %v (%v); want 3s: Stop's deadline caps the shutdown", took, err)
		}
		var se *shepherd.StuckError
		if !errors.As(err, &se) || !errors.Is(err, errBoom) {
			t.Fatalf("Run() = %v; want the failure and slow stuck", err)
		}
		time.Sleep(time.Minute) // let slow finish inside the bubble
	})
}

func TestStopDuringRestartKeepsOneBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app", shepherd.RestForOne, shepherd.ShutdownTimeout(10*time.Second))
		sup.Add("c", slowToStop(8*time.Second))
		defer func() { time.Sleep(time.Minute) }() // let c finish inside the bubble
		var aRuns atomic.Int32
		sup.Add("a", shepherd.ServiceFunc(func(ctx context.Context) error {
			if aRuns.Add(1) == 1 {
				time.Sleep(time.Second)
				return errBoom
			}
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure))
		sup.Add("b", slowToStop(8*time.Second))
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(ctx) }()
		time.Sleep(2 * time.Second) // a failed at 1s; b is stopped for its restart until 9s
		asked := time.Now()
		cancel()
		err := <-errc
		// The 10s budget runs from the stop request: b used most of it, so
		// c is stuck when it runs out.
		if took := time.Since(asked); took != 10*time.Second {
			t.Fatalf("Run returned %v after the stop request (%v); want the 10s ShutdownTimeout", took, err)
		}
		var se *shepherd.StuckError
		if !errors.As(err, &se) || len(se.Tasks) != 1 || se.Tasks[0].Path != "app/c" || se.Budget != 10*time.Second {
			t.Fatalf("Run() = %v; want app/c stuck after the 10s budget", err)
		}
	})
}

func TestStopDeadlineAlreadyPassedForcesAtOnce(t *testing.T) {
	t.Run("running", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sup := shepherd.NewSupervisor("app")
			sup.Add("c", slowToStop(100*time.Millisecond))
			defer func() { time.Sleep(time.Second) }() // let c finish inside the bubble
			errc := make(chan error, 1)
			go func() { errc <- sup.Run(context.Background()) }()
			synctest.Wait()
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel()
			sup.Stop(ctx)
			err := <-errc
			var se *shepherd.StuckError
			if !errors.As(err, &se) || len(se.Tasks) != 1 || se.Tasks[0].Path != "app/c" || se.Budget != 0 {
				t.Fatalf("Run() = %v; want app/c stuck with no budget at all", err)
			}
		})
	})
	t.Run("restarting", func(t *testing.T) {
		// The deadline passes while a restart is stopping b: c, which has
		// not been asked to stop yet, is forced at once.
		synctest.Test(t, func(t *testing.T) {
			sup := shepherd.NewSupervisor("app", shepherd.RestForOne)
			sup.Add("c", slowToStop(100*time.Millisecond))
			defer func() { time.Sleep(time.Minute) }() // let b and c finish inside the bubble
			var aRuns atomic.Int32
			sup.Add("a", shepherd.ServiceFunc(func(ctx context.Context) error {
				if aRuns.Add(1) == 1 {
					time.Sleep(time.Second)
					return errBoom
				}
				<-ctx.Done()
				return nil
			}), shepherd.Restart(shepherd.OnFailure))
			sup.Add("b", slowToStop(5*time.Second))
			errc := make(chan error, 1)
			start := time.Now()
			go func() { errc <- sup.Run(context.Background()) }()
			time.Sleep(2 * time.Second) // a failed at 1s; b is stopped for its restart until 6s
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			sup.Stop(ctx)
			err := <-errc
			// Past the deadline, the services still running get the 10ms
			// every forced service gets to return before it counts as stuck.
			if took := time.Since(start); took < 3*time.Second || took > 3*time.Second+10*time.Millisecond {
				t.Fatalf("Run returned after %v (%v); want 3s, Stop's deadline, plus at most 10ms", took, err)
			}
			stuck := map[string]bool{}
			for _, e := range multierr.Errors(err) {
				var se *shepherd.StuckError
				if !errors.As(e, &se) {
					continue
				}
				if se.Budget < 0 {
					t.Errorf("StuckError %q has a negative budget", se)
				}
				for _, task := range se.Tasks {
					stuck[task.Path] = true
				}
			}
			if !stuck["app/b"] || !stuck["app/c"] {
				t.Fatalf("Run() = %v; want app/b and app/c stuck", err)
			}
		})
	})
}

func TestForcedNestedSupervisorGetsRemainingBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := shepherd.NewSupervisor("inner")
		inner.Add("x", slowToStop(100*time.Millisecond))
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(10*time.Second))
		sup.Add("inner", inner)
		// slow, stopped first, needs more than the 9s before the rest are
		// forced; inner still has most of a second then, which x needs
		// 100ms of.
		sup.Add("slow", slowToStop(9500*time.Millisecond))
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(context.Background()) }()
		synctest.Wait()
		began := time.Now()
		sup.Stop(context.Background())
		if err := <-errc; err != nil {
			t.Fatalf("Run() = %v; want nil: everything returned within the 10s budget", err)
		}
		if took := time.Since(began); took != 9500*time.Millisecond {
			t.Fatalf("Run returned %v after Stop; want 9.5s, when slow returned", took)
		}
	})
}

// A nested supervisor reports its first failure to its parent at once,
// not when its own stop is over: the failure that happened first is the
// one the root reports first, and the root starts stopping right away.
func TestNestedFailureReachesRootAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errLate := errors.New("late")
		inner := shepherd.NewSupervisor("inner")
		inner.Add("y", slowToStop(5*time.Second))
		inner.Add("x", shepherd.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(time.Second)
			return errBoom
		}))
		root := shepherd.NewSupervisor("app")
		root.Add("inner", inner)
		var bStopped time.Duration
		start := time.Now()
		root.Add("b", shepherd.ServiceFunc(func(ctx context.Context) error {
			select {
			case <-time.After(2 * time.Second):
				return errLate
			case <-ctx.Done():
				bStopped = time.Since(start)
				return ctx.Err()
			}
		}))
		err := root.Run(context.Background())
		if errs := unwrapMulti(err); len(errs) == 0 || !errors.Is(errs[0], errBoom) || errors.Is(err, errLate) {
			t.Fatalf("Run() = %v; want inner's failure first, and b stopped before it could fail", err)
		}
		if bStopped != time.Second {
			t.Fatalf("b stopped at %v; want 1s, when inner failed", bStopped)
		}
	})
}
