package shepherd_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

func TestAlwaysRestartsServiceThatReturnsBeforeReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		sup := shepherd.NewSupervisor("app")
		sup.Add("poller", shepherd.ServiceFunc(func(ctx context.Context) error {
			if runs.Add(1) == 1 {
				return nil // nothing to do yet: Always runs it again
			}
			shepherd.Ready(ctx)
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.Always), shepherd.AwaitReady(30*time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sup.Run(ctx); err != nil {
			t.Fatalf("Run() = %v; want nil", err)
		}
		if n := runs.Load(); n != 2 {
			t.Fatalf("poller ran %d times; want 2: Always restarts a service that returned before it was ready", n)
		}
	})
}

func TestOneForAllSiblingFailureJudgedByOwnPolicy(t *testing.T) {
	// a (OnFailure) and b (Never) both fail before the supervisor looks:
	// a's restart must not swallow b's failure, nor restart b.
	synctest.Test(t, func(t *testing.T) {
		errA, errB := errors.New("a failed"), errors.New("b failed")
		release, gate := make(chan struct{}), make(chan struct{})
		var aRuns, bRuns atomic.Int32
		// The hook holds the supervisor on c's exit while a and b return,
		// so that it finds both done at once.
		sup := shepherd.NewSupervisor("app", shepherd.OneForAll, shepherd.OnEvent(func(e shepherd.Event) {
			if e.State == shepherd.StateStopped && e.Path == "app/c" {
				<-gate
			}
		}))
		sup.Add("a", shepherd.ServiceFunc(func(ctx context.Context) error {
			if aRuns.Add(1) == 1 {
				<-release
				return errA
			}
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{})
		sup.Add("b", shepherd.ServiceFunc(func(ctx context.Context) error {
			if bRuns.Add(1) == 1 {
				<-release
				return errB
			}
			<-ctx.Done()
			return nil
		}))
		sup.Add("c", shepherd.ServiceFunc(func(ctx context.Context) error { return nil }))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(ctx) }()
		synctest.Wait() // the supervisor waits in the hook for c's exit
		close(release)
		synctest.Wait() // a and b have returned
		close(gate)
		err := <-errc
		var te *shepherd.TaskError
		if !errors.Is(err, errB) || !errors.As(err, &te) || te.Path != "app/b" {
			t.Fatalf("Run() = %v; want b's failure: its policy is Never", err)
		}
		if n := bRuns.Load(); n != 1 {
			t.Fatalf("b ran %d times; want once: its policy is Never", n)
		}
	})
}

func TestSiblingFailingWhileStoppedForRestartFailsSupervisor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errLost := errors.New("flush failed: 12 records lost")
		var aRuns, bRuns atomic.Int32
		sup := shepherd.NewSupervisor("app", shepherd.OneForAll)
		sup.Add("a", shepherd.ServiceFunc(func(ctx context.Context) error {
			if aRuns.Add(1) == 1 {
				time.Sleep(time.Second)
				return errBoom
			}
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure))
		sup.Add("b", shepherd.ServiceFunc(func(ctx context.Context) error {
			bRuns.Add(1)
			<-ctx.Done()
			return errLost
		}))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := sup.Run(ctx)
		var te *shepherd.TaskError
		if !errors.Is(err, errLost) || !errors.As(err, &te) || te.Path != "app/b" {
			t.Fatalf("Run() = %v; want b's failure while it was stopped for a's restart", err)
		}
		if n := bRuns.Load(); n != 1 {
			t.Fatalf("b ran %d times; want once: its policy is Never", n)
		}
	})
}

func TestFailedRestartKeepsStartOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		var aRuns atomic.Int32
		bo := shepherd.Backoff{Min: 100 * time.Millisecond, Max: 100 * time.Millisecond}
		sup := shepherd.NewSupervisor("app", shepherd.OneForAll)
		sup.Add("a", shepherd.ServiceFunc(func(ctx context.Context) error {
			j.add("start a")
			switch aRuns.Add(1) {
			case 1:
				shepherd.Ready(ctx)
				time.Sleep(time.Second)
				return errors.New("a failed")
			case 2:
				return errors.New("a failed to start")
			}
			shepherd.Ready(ctx)
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure), bo, shepherd.AwaitReady(30*time.Second))
		sup.Add("b", recorded(&j, "b"), shepherd.Restart(shepherd.OnFailure), bo, shepherd.AwaitReady(30*time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sup.Run(ctx); err != nil {
			t.Fatalf("Run() = %v; want nil", err)
		}
		// b waits for a each time, also after a's restart failed.
		want := []string{"start a", "start b", "stop b", "start a", "start a", "start b", "stop b"}
		if got := j.get(); !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
	})
}

func TestAwaitReadyTimeoutOnRestartIsAnExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev eventLog
		var runs atomic.Int32
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(ev.record))
		sup.Add("a", shepherd.ServiceFunc(func(ctx context.Context) error {
			switch runs.Add(1) {
			case 1:
				shepherd.Ready(ctx)
				time.Sleep(time.Second)
				return errBoom
			case 2: // this warm-up hangs
				<-ctx.Done()
				return ctx.Err()
			}
			shepherd.Ready(ctx)
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure), shepherd.AwaitReady(time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sup.Run(ctx); err != nil {
			t.Fatalf("Run() = %v; want nil: a restart that is not ready in time is restarted by OnFailure", err)
		}
		if n := runs.Load(); n != 3 {
			t.Fatalf("a ran %d times; want 3", n)
		}
		restarts := ev.of(shepherd.StateRestarting, "app/a")
		if len(restarts) != 2 || !errText(restarts[1].Err, `task "app/a": not ready after 1s (AwaitReady)`) {
			t.Fatalf("restarts of app/a = %+v; want the second for its start timeout", restarts)
		}
	})
}

func TestFailureWhileStoppingIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errLost := errors.New("flush failed: 12 records lost")
		sup := shepherd.NewSupervisor("app")
		sup.Add("writer", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return errLost
		}), shepherd.Restart(shepherd.OnFailure))
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(ctx) }()
		synctest.Wait()
		cancel()
		err := <-errc
		var te *shepherd.TaskError
		if !errors.Is(err, errLost) || !errors.As(err, &te) || te.Path != "app/writer" {
			t.Fatalf("Run() = %v; want the writer's failure while it stopped", err)
		}
	})
}

func TestStopTreeWhileAnotherStartsIsNotAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var kinds []shepherd.State
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(func(e shepherd.Event) {
			if e.Path == "app/a" {
				mu.Lock()
				kinds = append(kinds, e.State)
				mu.Unlock()
			}
		}))
		sup.Add("a", shepherd.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(time.Second)
			return errors.Join(errors.New("maintenance window"), shepherd.ErrStopTree)
		}))
		sup.Add("b", shepherd.ServiceFunc(func(ctx context.Context) error {
			select { // still warming up when a stops the tree
			case <-ctx.Done():
				return nil
			case <-time.After(time.Minute):
			}
			shepherd.Ready(ctx)
			<-ctx.Done()
			return nil
		}), shepherd.AwaitReady(30*time.Second))
		err := sup.Run(context.Background())
		if !errors.Is(err, shepherd.ErrStopTree) || !errText(err, `task "app/a": maintenance window`) {
			t.Fatalf("Run() = %v; want a's ErrStopTree", err)
		}
		// As when the tree runs: a stopped, no failure reported.
		if want := []shepherd.State{shepherd.StateStarting, shepherd.StateRunning, shepherd.StateStopped}; !slices.Equal(kinds, want) {
			t.Fatalf("events of app/a = %v; want %v", kinds, want)
		}
		if st := sup.Snapshot().Children[0].State; st != shepherd.StateStopped {
			t.Fatalf("a is %v; want stopped", st)
		}
	})
}

func TestBackoffWithHugeMaxNeverNegative(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Min is more than half of Max: doubling it once would overflow.
		bo := shepherd.Backoff{Min: 1 << 62, Max: math.MaxInt64}
		var mu sync.Mutex
		var delays []time.Duration
		second := make(chan struct{})
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(func(e shepherd.Event) {
			if e.State == shepherd.StateRestarting {
				mu.Lock()
				defer mu.Unlock()
				if delays = append(delays, e.Delay); len(delays) == 2 {
					close(second)
				}
			}
		}))
		sup.Add("flaky", shepherd.ServiceFunc(func(ctx context.Context) error { return errBoom }),
			shepherd.Restart(shepherd.OnFailure), bo)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(ctx) }()
		<-second // after some 146 years of fake time
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("Run() = %v; want nil", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []time.Duration{bo.Min, bo.Max}; !slices.Equal(delays[:2], want) {
			t.Fatalf("restart delays = %v; want %v", delays, want)
		}
	})
}

func TestRestartedHTTPServerRefusesToServeAgain(t *testing.T) {
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: http.NotFoundHandler()})
	var workerRuns atomic.Int32
	sup := shepherd.NewSupervisor("app", shepherd.OneForAll)
	// api has a restart policy, so OneForAll starts it again with worker.
	sup.Add("api", api, shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{})
	sup.Add("worker", shepherd.ServiceFunc(func(ctx context.Context) error {
		shepherd.Ready(ctx)
		if workerRuns.Add(1) == 1 {
			return errBoom // restarts api with it
		}
		<-ctx.Done()
		return nil
	}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{}, shepherd.AwaitReady(30*time.Second))
	// The bound only matters if the restarted server pretends to run.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := sup.Run(ctx)
	var rl *shepherd.RestartLimitError
	if !errText(err, "cannot serve again") || !errors.As(err, &rl) || rl.Service != "app/api" {
		t.Fatalf("Run() = %v; want app/api to refuse to serve after its shutdown, until the restart limit", err)
	}
}

func TestStuckSiblingIsStoppedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &stuckStopper{release: make(chan struct{})}
		defer func() { close(s.release); synctest.Wait() }()
		sup := shepherd.NewSupervisor("app", shepherd.OneForAll, shepherd.ShutdownTimeout(time.Second))
		sup.Add("s", s)
		sup.Add("a", shepherd.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(time.Second)
			return errBoom
		}), shepherd.Restart(shepherd.OnFailure))
		err := sup.Run(context.Background())
		var se *shepherd.StuckError
		if !errors.As(err, &se) || len(se.Tasks) != 1 || se.Tasks[0].Path != "app/s" {
			t.Fatalf("Run() = %v; want app/s stuck", err)
		}
		if n := s.stops.Load(); n != 1 {
			t.Fatalf("Stop called %d times on the same run; want once", n)
		}
	})
}

// errText reports whether err's message contains every one of parts.
func errText(err error, parts ...string) bool {
	if err == nil {
		return false
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			return false
		}
	}
	return true
}
