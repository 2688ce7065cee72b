package shepherd_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// blockUntilDone is a service that runs until its context is cancelled.
var blockUntilDone = shepherd.ServiceFunc(func(ctx context.Context) error {
	<-ctx.Done()
	return nil
})

func TestAddDuringStartRunsServiceOnce(t *testing.T) {
	// Add races with Run taking its initial set of services: a service
	// added at that moment must be started once, with the initial set or
	// right after it. The window is narrow (a tight poll lands in it about
	// once in fifty tries, given two CPUs), so the race is tried again and
	// again for half a second.
	began := time.Now()
	for i := 0; time.Since(began) < 500*time.Millisecond; i++ {
		var starts, running atomic.Int32
		sup := shepherd.NewSupervisor("app")
		sup.Add("base", blockUntilDone)
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(context.Background()) }()
		spinUntil(t, func() bool { return sup.Snapshot().State == shepherd.StateRunning })
		if err := sup.StartService("added", shepherd.ServiceFunc(func(ctx context.Context) error {
			starts.Add(1)
			running.Add(1)
			defer running.Add(-1)
			<-ctx.Done()
			return nil
		})); err != nil {
			t.Fatalf("try %d: StartService while running = %v; want nil", i, err)
		}
		spinUntil(t, func() bool { return sup.Snapshot().Children[1].State == shepherd.StateRunning })
		sup.Stop(context.Background())
		if err := <-errc; err != nil {
			t.Fatalf("try %d: Run() = %v; want nil", i, err)
		}
		if n := starts.Load(); n != 1 {
			t.Fatalf("try %d: the service added during the start was started %d times; want once", i, n)
		}
		if n := running.Load(); n != 0 {
			t.Fatalf("try %d: %d run(s) of the added service still running after Run returned", i, n)
		}
	}
}

// spinUntil polls cond in a tight loop, yielding now and then, and fails
// the test if it does not hold within 10s. Unlike eventually, it polls fast
// enough to catch a state the moment it is entered.
func spinUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i := 1; !cond(); i++ {
		if i%64 == 0 {
			if time.Now().After(deadline) {
				t.Fatal("condition not met within 10s")
			}
			runtime.Gosched()
		}
	}
}

func TestNoSpinWhileServiceStarts(t *testing.T) {
	// In a bubble, fake time only advances while every goroutine is
	// blocked: a supervisor that busy-waits for "slow" to be ready stops
	// the clock, and the warm-up below never ends. The watchdog, on the
	// real clock, turns that hang into a failure.
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		synctest.Test(t, func(t *testing.T) {
			sup := shepherd.NewSupervisor("app")
			sup.Add("oneshot", shepherd.ServiceFunc(func(ctx context.Context) error { return nil }))
			sup.Add("slow", shepherd.ServiceFunc(func(ctx context.Context) error {
				time.Sleep(time.Second) // warming up
				shepherd.Ready(ctx)
				<-ctx.Done()
				return nil
			}), shepherd.AwaitReady(30*time.Second))
			errc := make(chan error, 1)
			go func() { errc <- sup.Run(context.Background()) }()
			time.Sleep(2 * time.Second)
			if st := sup.Snapshot().Children[1].State; st != shepherd.StateRunning {
				t.Errorf("slow is %v after its warm-up; want running", st)
			}
			sup.Stop(context.Background())
			if err := <-errc; err != nil {
				t.Errorf("Run() = %v; want nil", err)
			}
		})
	}()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("fake time stood still for 10s: the supervisor busy-waits while a service starts")
	}
}

func TestNestedStartFailureStopsParentStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := shepherd.NewSupervisor("inner")
		inner.Add("a", shepherd.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(time.Second)
			return errBoom
		}))
		inner.Add("b", shepherd.ServiceFunc(func(ctx context.Context) error {
			select { // still warming up when a fails
			case <-ctx.Done():
				return nil
			case <-time.After(time.Minute):
			}
			shepherd.Ready(ctx)
			<-ctx.Done()
			return nil
		}), shepherd.AwaitReady(30*time.Second))
		var j journal
		sup := shepherd.NewSupervisor("app")
		sup.Add("inner", inner)
		sup.Add("next", recorded(&j, "next"), shepherd.AwaitReady(30*time.Second))
		err := sup.Run(context.Background())
		var te *shepherd.TaskError
		if !errors.Is(err, errBoom) || !errors.As(err, &te) || te.Path != "app/inner/a" {
			t.Fatalf("Run() = %v; want app/inner/a's failure", err)
		}
		if got := j.get(); len(got) != 0 {
			t.Fatalf("journal = %q; want nothing: next must not start after inner failed before it was ready", got)
		}
	})
}

func TestStopBeforeRunAppliesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app")
		sup.Add("a", recorded(&j, "a"), shepherd.AwaitReady(30*time.Second))
		sup.Stop(context.Background())
		// A second Stop, say from a deferred cleanup, returns at once.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		began := time.Now()
		sup.Stop(ctx)
		if d := time.Since(began); d != 0 {
			t.Fatalf("second Stop before Run returned after %v; want at once", d)
		}
		if err := sup.Run(context.Background()); !errors.Is(err, shepherd.ErrClosed) {
			t.Fatalf("Run after Stop = %v; want ErrClosed", err)
		}
		// The Stop applied to that Run only: the next one runs.
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(context.Background()) }()
		synctest.Wait()
		sup.Stop(context.Background())
		if err := <-errc; err != nil {
			t.Fatalf("second Run() = %v; want nil", err)
		}
		if got, want := j.get(), []string{"start a", "stop a"}; !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
	})
}

// lateRun holds back its supervisor's Run until Stop was called, as when a
// parent stops a nested supervisor whose goroutine has not reached Run yet.
type lateRun struct {
	*shepherd.Supervisor
	stopped chan struct{}
}

func (l lateRun) Run(ctx context.Context) error {
	<-l.stopped
	return l.Supervisor.Run(ctx)
}

func (l lateRun) Stop(ctx context.Context) error {
	defer close(l.stopped)
	l.Supervisor.Stop(ctx)
	return nil
}

func TestParentStopBeforeNestedRunIsClean(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		inner := shepherd.NewSupervisor("inner")
		inner.Add("svc", recorded(&j, "svc"), shepherd.AwaitReady(30*time.Second))
		sup := shepherd.NewSupervisor("app")
		sup.Add("inner", lateRun{inner, make(chan struct{})})
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(context.Background()) }()
		synctest.Wait()
		sup.Stop(context.Background())
		if err := <-errc; err != nil {
			t.Fatalf("Run() = %v; want nil: a nested supervisor stopped before it ran is not a failure", err)
		}
		// The nested supervisor is not closed for good.
		ctx, cancel := context.WithCancel(context.Background())
		go func() { errc <- inner.Run(ctx) }()
		synctest.Wait()
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("inner.Run() afterwards = %v; want nil", err)
		}
		if got, want := j.get(), []string{"start svc", "stop svc"}; !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
	})
}

// stuckStopper's Stop and Run both hang until release is closed, however
// long the supervisor waits; it counts the calls of Stop.
type stuckStopper struct {
	release chan struct{}
	stops   atomic.Int32
}

func (s *stuckStopper) Run(ctx context.Context) error {
	<-ctx.Done()
	blockedInService(s.release)
	return nil
}

func (s *stuckStopper) Stop(ctx context.Context) error {
	s.stops.Add(1)
	blockedInStop(s.release)
	return nil
}

// A supervisor whose service is stuck from its last run cannot run again
// (that would run two copies of the service); once the stuck run returns,
// it can.
func TestRunAgainOnlyAfterStuckRunFinishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &stuckStopper{release: make(chan struct{})}
		release := sync.OnceFunc(func() { close(s.release) })
		defer func() { release(); synctest.Wait() }()
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(time.Second))
		sup.Add("s", s)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(ctx) }()
		synctest.Wait()
		cancel()
		var se *shepherd.StuckError
		if err := <-errc; !errors.As(err, &se) {
			t.Fatalf("first Run() = %v; want a *StuckError", err)
		}
		want := `shepherd: supervisor "app" cannot run again: "app/s" did not stop in its last run and is still running`
		if err := sup.Run(context.Background()); err == nil || err.Error() != want {
			t.Fatalf("Run while s is stuck = %v; want %q", err, want)
		}
		release()
		synctest.Wait()
		ctx, cancel = context.WithCancel(context.Background())
		go func() { errc <- sup.Run(ctx) }()
		synctest.Wait()
		if st := sup.Snapshot().Children[0].State; st != shepherd.StateRunning {
			t.Fatalf("s is %v in the new run; want running", st)
		}
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("Run after the stuck run returned = %v; want nil", err)
		}
		if n := s.stops.Load(); n != 2 {
			t.Fatalf("Stop called %d times; want once per run", n)
		}
	})
}

// goexitStopper's Stop calls runtime.Goexit, as t.FailNow in a test double
// does.
type goexitStopper struct{}

func (goexitStopper) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (goexitStopper) Stop(ctx context.Context) error {
	runtime.Goexit()
	return nil
}

func TestGoexitInStopIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app")
		sup.Add("s", goexitStopper{})
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(ctx) }()
		synctest.Wait()
		cancel()
		err := <-errc
		var te *shepherd.TaskError
		if !errors.Is(err, shepherd.ErrGoexit) || !errors.As(err, &te) || te.Path != "app/s" {
			t.Fatalf("Run() = %v; want app/s's Stop reported as calling runtime.Goexit", err)
		}
	})
}

func TestGoexitInHookDoesNotBreakRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(func(e shepherd.Event) {
			if e.State == shepherd.StateRunning {
				runtime.Goexit() // t.FailNow in a test's hook
			}
		}))
		sup.Add("s", recorded(&j, "s"), shepherd.AwaitReady(30*time.Second))
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(context.Background()) }()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sup.Stop(ctx)
		synctest.Wait()
		select {
		case err := <-errc:
			// The hook is the supervisor's: its Goexit fails the tree like
			// a panic would, and Run still stops everything and returns.
			var te *shepherd.TaskError
			if !errors.As(err, &te) || te.Path != "app/s (OnEvent hook)" || !errors.Is(err, shepherd.ErrGoexit) {
				t.Fatalf("Run() = %v; want the hook's Goexit reported for app/s (OnEvent hook)", err)
			}
		default:
			t.Fatalf("Run did not return after Stop; supervisor %v", sup.Snapshot().State)
		}
		if got, want := j.get(), []string{"start s", "stop s"}; !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
	})
}
