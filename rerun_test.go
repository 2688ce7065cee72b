package shepherd_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
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

// A service that fails as soon as it starts restarts in place, decided on
// its own goroutine while the loop sleeps. A stop (Stop, ctx's
// cancellation or Remove of that service) must still land at once: the
// loop takes its state back between two restarts, and no run starts after
// the stop took the service.
func TestStopLandsWhileRestartingInPlace(t *testing.T) {
	for _, how := range []string{"Stop", "cancel", "Remove"} {
		t.Run(how, func(t *testing.T) {
			var runs atomic.Int64
			hot := make(chan struct{})
			errFail := errors.New("fail")
			flaky := shepherd.ServiceFunc(func(context.Context) error {
				if runs.Add(1) == 200 {
					close(hot)
				}
				return errFail
			})
			sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(math.MaxInt, time.Nanosecond),
				shepherd.ShutdownTimeout(time.Minute))
			sup.Add("flaky", flaky, shepherd.Restart(shepherd.Always), shepherd.Backoff{})
			sup.Add("keep", shepherd.ServiceFunc(func(ctx context.Context) error {
				<-ctx.Done()
				return nil
			}))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res := make(chan error, 1)
			go func() { res <- sup.Run(ctx) }()
			<-hot
			if how == "Remove" {
				rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer rcancel()
				// The run the removal stopped may have failed on its own
				// first: Remove returns that failure, as documented.
				if err := sup.Remove(rctx, "flaky"); err != nil && !errors.Is(err, errFail) {
					t.Fatalf("Remove = %v; want nil or the service's failure", err)
				}
				after := runs.Load()
				sup.Stop(context.Background())
				if err := <-res; err != nil {
					t.Fatalf("Run() = %v; want nil", err)
				}
				if n := runs.Load(); n != after {
					t.Errorf("flaky ran %d more times after Remove returned", n-after)
				}
				return
			}
			if how == "Stop" {
				go sup.Stop(context.Background())
			} else {
				cancel()
			}
			select {
			case err := <-res:
				// The run the stop found may have failed on its own
				// first: Run returns that failure.
				if err != nil && !errors.Is(err, errFail) {
					t.Fatalf("Run() = %v; want nil or the service's failure", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Run still runs 10 s after %s, with flaky restarted %d times", how, runs.Load())
			}
			// A goroutine still restarting flaky after Run returned is
			// what goleak, in TestMain, reports.
		})
	}
}

// Once a failure stopped the supervisor, no other exit is decided: b,
// which fails after a's failure was recorded (it waits for a's event),
// is taken by the shutdown, never restarted. Before the fix an ending
// run could decide b's restart while the loop had not yet woken for a's
// failure, and Snapshot then showed b restarting after Run returned.
func TestNoRestartAfterTheSupervisorFailed(t *testing.T) {
	errA, errB := errors.New("a failed"), errors.New("b failed")
	for i := 0; i < 300; i++ {
		aFailed := make(chan struct{})
		var once sync.Once
		var restartedB atomic.Bool
		sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(math.MaxInt, time.Nanosecond),
			shepherd.OnEvent(func(e shepherd.Event) {
				switch {
				case e.Path == "app/a" && e.State == shepherd.StateFailed:
					once.Do(func() { close(aFailed) })
				case e.Path == "app/b" && e.State == shepherd.StateRestarting:
					restartedB.Store(true)
				}
			}))
		gate := make(chan struct{})
		sup.Add("a", shepherd.ServiceFunc(func(context.Context) error {
			<-gate
			return errA
		}))
		bRuns := 0
		sup.Add("b", shepherd.ServiceFunc(func(ctx context.Context) error {
			if bRuns++; bRuns > 1 {
				<-ctx.Done()
				return nil
			}
			close(gate)
			<-aFailed
			return errB
		}), shepherd.Restart(shepherd.Always), shepherd.Backoff{})
		err := sup.Run(context.Background())
		if !errors.Is(err, errA) {
			t.Fatalf("round %d: Run() = %v; want a's failure", i, err)
		}
		if restartedB.Load() {
			t.Fatalf("round %d: b was restarted after the supervisor failed (Run() = %v)", i, err)
		}
		if st := sup.Snapshot().Children[1].State; st == shepherd.StateRestarting {
			t.Fatalf("round %d: Snapshot shows b %v after Run returned", i, st)
		}
	}
}

// nilUnwrap is an error whose Unwrap panics when the error is a typed nil:
// the supervisor calls it (through errors.Is) while it judges an exit.
type nilUnwrap struct{ inner error }

func (e *nilUnwrap) Error() string { return "nilUnwrap" }
func (e *nilUnwrap) Unwrap() error { return e.inner }

// Judging an exit calls the methods of the error the service returned:
// user code. A panic in them is the supervisor's failure, attributed to
// the service, whichever goroutine judged the exit: the ending run's
// (OneForOne, after restarts in place) or the loop's (OneForAll). Before
// the fix it killed the process on the first, and escaped from Run on the
// second.
func TestPanicInAnErrorMethodIsTheSupervisorsFailure(t *testing.T) {
	for _, strategy := range []shepherd.Strategy{shepherd.OneForOne, shepherd.OneForAll} {
		t.Run(strategy.String(), func(t *testing.T) {
			n := 0
			sup := shepherd.NewSupervisor("app", strategy, shepherd.MaxRestarts(math.MaxInt, time.Nanosecond))
			sup.Add("svc", shepherd.ServiceFunc(func(context.Context) error {
				if n++; n <= 100 {
					return errors.New("fail")
				}
				var bad *nilUnwrap
				return bad
			}), shepherd.Restart(shepherd.Always), shepherd.Backoff{})
			err := sup.Run(context.Background())
			var pe *shepherd.PanicError
			if !errors.As(err, &pe) || pe.Task != "app/svc" {
				t.Fatalf("Run() = %v; want a *PanicError of app/svc", err)
			}
		})
	}
}

// What an ending run decides is what the loop would have decided: each
// restart's events come in order (Failed, Restarting, Starting, Running),
// MaxRestarts escalates, a backoff goes through the timer and the loop,
// and a service added with StartService meanwhile starts at once.
func TestDecisionsOfAnEndingRunMatchTheLoops(t *testing.T) {
	errFail := errors.New("fail")
	t.Run("events", func(t *testing.T) {
		const restarts = 200
		var mu sync.Mutex
		var states []shepherd.State
		n := 0
		sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(math.MaxInt, time.Nanosecond),
			shepherd.OnEvent(func(e shepherd.Event) {
				if e.Path == "app/flaky" {
					mu.Lock()
					states = append(states, e.State)
					mu.Unlock()
				}
			}))
		sup.Add("flaky", shepherd.ServiceFunc(func(context.Context) error {
			if n++; n > restarts {
				return shepherd.ErrStopTree
			}
			return errFail
		}), shepherd.Restart(shepherd.Always), shepherd.Backoff{})
		if err := sup.Run(context.Background()); !errors.Is(err, shepherd.ErrStopTree) {
			t.Fatalf("Run() = %v; want ErrStopTree", err)
		}
		mu.Lock()
		defer mu.Unlock()
		cycle := []shepherd.State{shepherd.StateStarting, shepherd.StateRunning, shepherd.StateFailed, shepherd.StateRestarting}
		want := len(cycle)*restarts + 3 // then Starting, Running, Stopped
		if len(states) != want {
			t.Fatalf("got %d events; want %d", len(states), want)
		}
		for i, st := range states[:len(states)-3] {
			if st != cycle[i%len(cycle)] {
				t.Fatalf("event %d is %v; want %v (events %v)", i, st, cycle[i%len(cycle)], states[max(0, i-4):i+1])
			}
		}
	})
	t.Run("MaxRestarts", func(t *testing.T) {
		sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(100, time.Hour))
		sup.Add("flaky", shepherd.ServiceFunc(func(context.Context) error { return errFail }),
			shepherd.Restart(shepherd.Always), shepherd.Backoff{})
		err := sup.Run(context.Background())
		var le *shepherd.RestartLimitError
		if !errors.As(err, &le) || le.Service != "app/flaky" || !errors.Is(err, errFail) {
			t.Fatalf("Run() = %v; want a *RestartLimitError of app/flaky", err)
		}
	})
	t.Run("backoff", func(t *testing.T) {
		n := 0
		sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(math.MaxInt, time.Nanosecond))
		sup.Add("flaky", shepherd.ServiceFunc(func(context.Context) error {
			if n++; n > 20 {
				return shepherd.ErrStopTree
			}
			return errFail
		}), shepherd.Restart(shepherd.Always), shepherd.Backoff{Min: time.Microsecond, Max: time.Microsecond})
		if err := sup.Run(context.Background()); !errors.Is(err, shepherd.ErrStopTree) || n != 21 {
			t.Fatalf("Run() = %v after %d runs; want ErrStopTree after 21", err, n)
		}
	})
	t.Run("StartService", func(t *testing.T) {
		var runs atomic.Int64
		hot := make(chan struct{})
		sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(math.MaxInt, time.Nanosecond))
		sup.Add("flaky", shepherd.ServiceFunc(func(context.Context) error {
			if runs.Add(1) == 200 {
				close(hot)
			}
			return errFail
		}), shepherd.Restart(shepherd.Always), shepherd.Backoff{})
		res := make(chan error, 1)
		go func() { res <- sup.Run(context.Background()) }()
		<-hot
		started := make(chan struct{})
		err := sup.StartService("late", shepherd.ServiceFunc(func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return nil
		}))
		if err != nil {
			t.Fatalf("StartService = %v", err)
		}
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatalf("late has not started 10 s after StartService, flaky restarted %d times", runs.Load())
		}
		sup.Stop(context.Background())
		if err := <-res; err != nil && !errors.Is(err, errFail) {
			t.Fatalf("Run() = %v; want nil or flaky's failure", err)
		}
	})
}

// The same panic in a method of the error, met while another service is
// starting (the loop then looks at exits only to find one that stops the
// supervisor), is the supervisor's failure too. Before the fix it escaped
// from Run.
func TestPanicInAnErrorMethodWhileAnotherStarts(t *testing.T) {
	slowStarted := make(chan struct{})
	sup := shepherd.NewSupervisor("app")
	sup.Add("bad", shepherd.ServiceFunc(func(context.Context) error {
		<-slowStarted
		var bad *nilUnwrap
		return bad
	}), shepherd.Restart(shepherd.Always), shepherd.Backoff{})
	sup.Add("slow", shepherd.ServiceFunc(func(ctx context.Context) error {
		close(slowStarted) // and never Ready: the loop waits for it
		<-ctx.Done()
		return nil
	}), shepherd.AwaitReady(time.Minute))
	err := sup.Run(context.Background())
	var pe *shepherd.PanicError
	if !errors.As(err, &pe) || pe.Task != "app/bad" {
		t.Fatalf("Run() = %v; want a *PanicError of app/bad", err)
	}
}
