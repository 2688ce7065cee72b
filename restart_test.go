package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// eventLog collects the events of a tree.
type eventLog struct {
	mu     sync.Mutex
	events []shepherd.Event
}

func (l *eventLog) record(e shepherd.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) all() []shepherd.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func (l *eventLog) of(kind shepherd.State, path string) []shepherd.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []shepherd.Event
	for _, e := range l.events {
		if e.State == kind && (path == "" || e.Path == path) {
			out = append(out, e)
		}
	}
	return out
}

// script is a service whose runs follow a list of outcomes: nil returns,
// errors, or "block" (wait for the context). After the list, it blocks.
func script(j *journal, name string, outcomes ...error) shepherd.ServiceFunc {
	var run atomic.Int32
	return func(ctx context.Context) error {
		n := int(run.Add(1)) - 1
		j.add("start " + name)
		shepherd.Ready(ctx)
		if n < len(outcomes) && outcomes[n] != errBlock {
			return outcomes[n]
		}
		<-ctx.Done()
		j.add("stop " + name)
		return ctx.Err()
	}
}

var errBlock = errors.New("block until cancelled")

func TestOnFailureRestartsFailuresOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app")
		sup.Add("flaky", script(&j, "flaky", errBoom, errBoom, nil), shepherd.Restart(shepherd.OnFailure), shepherd.AwaitReady(30*time.Second))
		sup.Add("clean", script(&j, "clean", nil), shepherd.Restart(shepherd.OnFailure), shepherd.AwaitReady(30*time.Second))
		if err := sup.Run(context.Background()); err != nil {
			t.Fatalf("Run() = %v; want nil once both finished", err)
		}
		// flaky: two failures restarted, the nil return is final; clean:
		// its nil return is final at once.
		want := []string{"start flaky", "start clean", "start flaky", "start flaky"}
		if got := j.get(); !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
		for _, c := range sup.Snapshot().Children {
			if wantN := map[string]int{"app/flaky": 2, "app/clean": 0}[c.Path]; c.Restarts != wantN {
				t.Errorf("%s restarted %d times; want %d", c.Path, c.Restarts, wantN)
			}
		}
	})
}

func TestAlwaysRestartsCleanExitsToo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app")
		sup.Add("loop", script(&j, "loop", nil, errBoom, nil, errBlock), shepherd.Restart(shepherd.Always), shepherd.AwaitReady(30*time.Second))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		time.Sleep(time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v; want nil", err)
		}
		want := []string{"start loop", "start loop", "start loop", "start loop", "stop loop"}
		if got := j.get(); !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
	})
}

func TestBackoffGrowsAndIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev eventLog
		var starts []time.Time
		var mu sync.Mutex
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(ev.record), shepherd.MaxRestarts(100, time.Minute))
		sup.Add("flaky", shepherd.ServiceFunc(func(ctx context.Context) error {
			mu.Lock()
			starts = append(starts, time.Now())
			n := len(starts)
			mu.Unlock()
			if n <= 6 {
				return errBoom
			}
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: time.Second, Max: 8 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		time.Sleep(time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		wantDelays := []time.Duration{1, 2, 4, 8, 8, 8}
		var gotDelays, gotGaps []time.Duration
		for _, e := range ev.of(shepherd.StateRestarting, "app/flaky") {
			gotDelays = append(gotDelays, e.Delay/time.Second)
		}
		for i := 1; i < len(starts); i++ {
			gotGaps = append(gotGaps, starts[i].Sub(starts[i-1])/time.Second)
		}
		if !slices.Equal(gotDelays, wantDelays) || !slices.Equal(gotGaps, wantDelays) {
			t.Fatalf("restart delays %v, gaps between starts %v (seconds); want both %v", gotDelays, gotGaps, wantDelays)
		}
		for i, e := range ev.of(shepherd.StateRestarting, "app/flaky") {
			if e.Attempt != i+1 || !errors.Is(e.Err, errBoom) {
				t.Errorf("restart event %d = {Attempt: %d, Err: %v}; want {%d, boom}", i, e.Attempt, e.Err, i+1)
			}
		}
	})
}

func TestBackoffJitterStaysInRange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev eventLog
		var runs atomic.Int32
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(ev.record), shepherd.MaxRestarts(1000, time.Minute))
		sup.Add("flaky", shepherd.ServiceFunc(func(ctx context.Context) error {
			if runs.Add(1) <= 200 {
				return errBoom
			}
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: time.Second, Max: time.Second, Jitter: 0.4})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		time.Sleep(time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		restarts := ev.of(shepherd.StateRestarting, "")
		if len(restarts) != 200 {
			t.Fatalf("%d restarts; want 200", len(restarts))
		}
		distinct := map[time.Duration]bool{}
		for _, e := range restarts {
			if e.Delay < 600*time.Millisecond || e.Delay > time.Second {
				t.Fatalf("delay %v outside [600ms, 1s] for Jitter 0.4", e.Delay)
			}
			distinct[e.Delay] = true
		}
		if len(distinct) < 100 {
			t.Fatalf("only %d distinct delays in 200 restarts: jitter is not spreading them", len(distinct))
		}
	})
}

func TestBackoffResetsAfterStableRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev eventLog
		var runs atomic.Int32
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(ev.record))
		sup.Add("flaky", shepherd.ServiceFunc(func(ctx context.Context) error {
			switch runs.Add(1) {
			case 1, 2, 3:
				return errBoom // fails at once: 1s, 2s, 4s
			case 4:
				time.Sleep(5 * time.Second) // up for Reset: the backoff starts over
				return errBoom
			}
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: time.Second, Max: time.Minute, Reset: 5 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		time.Sleep(time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var got []time.Duration
		for _, e := range ev.of(shepherd.StateRestarting, "") {
			got = append(got, e.Delay/time.Second)
		}
		if want := []time.Duration{1, 2, 4, 1}; !slices.Equal(got, want) {
			t.Fatalf("delays %v s; want %v s (reset after a 5s run)", got, want)
		}
	})
}

func TestMaxRestartsExceededFailsSupervisor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(3, time.Minute))
		sup.Add("first", recorded(&j, "first"), shepherd.AwaitReady(30*time.Second))
		sup.Add("flapping", script(&j, "flapping", errBoom, errBoom, errBoom, errBoom, errBoom),
			shepherd.Restart(shepherd.Always), shepherd.Backoff{Min: time.Second, Max: time.Second}, shepherd.AwaitReady(30*time.Second))
		sup.Add("last", recorded(&j, "last"), shepherd.AwaitReady(30*time.Second))
		err := sup.Run(context.Background())
		var rl *shepherd.RestartLimitError
		if !errors.As(err, &rl) || rl.Service != "app/flapping" || rl.Supervisor != "app" || !errors.Is(err, errBoom) {
			t.Fatalf("Run() = %v; want a *RestartLimitError for app/flapping wrapping its last failure", err)
		}
		if want := `shepherd: supervisor "app" gave up: service "app/flapping" exceeded 3 restarts in 1m0s; last failure: boom`; err.Error() != want {
			t.Fatalf("Run() = %q;\nwant %q", err, want)
		}
		want := []string{"start first", "start flapping", "start last", "start flapping", "start flapping", "start flapping", "stop last", "stop first"}
		if got := j.get(); !slices.Equal(got, want) {
			t.Fatalf("journal = %q;\nwant %q", got, want)
		}
	})
}

// flapper fails its first n runs, then runs until cancelled.
func flapper(n int32) shepherd.ServiceFunc {
	var runs atomic.Int32
	return func(ctx context.Context) error {
		if runs.Add(1) <= n {
			return errBoom
		}
		<-ctx.Done()
		return ctx.Err()
	}
}

func TestRestartLimitEscalatesToTheTop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		leaf := shepherd.NewSupervisor("leaf", shepherd.MaxRestarts(2, time.Minute))
		leaf.Add("flapping", flapper(1000), shepherd.Restart(shepherd.Always), shepherd.Backoff{})
		mid := shepherd.NewSupervisor("mid")
		mid.Add("workers", leaf) // no restart policy: the leaf's failure is mid's
		top := shepherd.NewSupervisor("app")
		top.Add("backend", mid)
		err := top.Run(context.Background())
		var rl *shepherd.RestartLimitError
		if !errors.As(err, &rl) || rl.Service != "app/backend/workers/flapping" || rl.Supervisor != "app/backend/workers" {
			t.Fatalf("Run() = %v; want the leaf's *RestartLimitError to reach the top", err)
		}
	})
}

func TestMiddleSupervisorRestartsFailingChild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev eventLog
		leaf := shepherd.NewSupervisor("leaf", shepherd.MaxRestarts(2, time.Minute))
		// Fails 5 times in all: more than the leaf tolerates once, so the
		// leaf gives up; mid restarts the leaf, whose next runs outlast it.
		leaf.Add("flapping", flapper(5), shepherd.Restart(shepherd.Always), shepherd.Backoff{})
		mid := shepherd.NewSupervisor("mid")
		mid.Add("workers", leaf, shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: time.Second, Max: time.Second})
		top := shepherd.NewSupervisor("app", shepherd.OnEvent(ev.record))
		top.Add("backend", mid)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- top.Run(ctx) }()
		time.Sleep(time.Minute)
		if got := top.Snapshot().Children[0].State; got != shepherd.StateRunning {
			t.Fatalf("top's backend is %v; want running: mid should have absorbed the leaf's failure", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v; want nil: the failure stopped at mid", err)
		}
		restarts := ev.of(shepherd.StateRestarting, "app/backend/workers")
		if len(restarts) != 1 {
			t.Fatalf("mid restarted the leaf %d times; want 1", len(restarts))
		}
		var rl *shepherd.RestartLimitError
		if !errors.As(restarts[0].Err, &rl) {
			t.Fatalf("restart cause = %v; want the leaf's *RestartLimitError", restarts[0].Err)
		}
	})
}

func TestStrategiesRestartTheRightServices(t *testing.T) {
	for _, tc := range []struct {
		strategy shepherd.Strategy
		want     []string
	}{
		{shepherd.OneForOne, []string{"start a", "start b", "start c", "start b"}},
		{shepherd.OneForAll, []string{"start a", "start b", "start c", "stop c", "stop a", "start a", "start b", "start c"}},
		{shepherd.RestForOne, []string{"start a", "start b", "start c", "stop c", "start b", "start c"}},
	} {
		t.Run(tc.strategy.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var j journal
				sup := shepherd.NewSupervisor("app", tc.strategy)
				opts := []shepherd.ServiceOption{shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: time.Second, Max: time.Second}, shepherd.AwaitReady(30 * time.Second)}
				sup.Add("a", script(&j, "a"), opts...)
				fail := make(chan struct{})
				var runs atomic.Int32
				sup.Add("b", shepherd.ServiceFunc(func(ctx context.Context) error {
					j.add("start b")
					shepherd.Ready(ctx)
					if runs.Add(1) == 1 {
						<-fail
						return errBoom
					}
					<-ctx.Done()
					return nil
				}), opts...)
				sup.Add("c", script(&j, "c"), opts...)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error)
				go func() { done <- sup.Run(ctx) }()
				synctest.Wait()
				close(fail)
				time.Sleep(time.Minute)
				got := j.get()
				cancel()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("journal = %q;\nwant %q", got, tc.want)
				}
			})
		})
	}
}

func TestDoNotRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app")
		sup.Add("other", recorded(&j, "other"), shepherd.AwaitReady(30*time.Second))
		sup.Add("once", script(&j, "once", fmt.Errorf("config missing: %w", shepherd.ErrDoNotRestart)), shepherd.Restart(shepherd.Always), shepherd.AwaitReady(30*time.Second))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		time.Sleep(time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v; want nil: ErrDoNotRestart is not a failure", err)
		}
		if got, want := j.get(), []string{"start other", "start once", "stop other"}; !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
	})
}

func TestStopTreeStopsEveryLevel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		leaf := shepherd.NewSupervisor("leaf")
		leaf.Add("sibling", recorded(&j, "sibling"), shepherd.AwaitReady(30*time.Second))
		leaf.Add("decider", shepherd.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(time.Second)
			return fmt.Errorf("maintenance window: %w", shepherd.ErrStopTree)
		}), shepherd.Restart(shepherd.Always))
		top := shepherd.NewSupervisor("app")
		top.Add("db", recorded(&j, "db"), shepherd.AwaitReady(30*time.Second))
		top.Add("workers", leaf, shepherd.Restart(shepherd.OnFailure))
		err := top.Run(context.Background())
		if !errors.Is(err, shepherd.ErrStopTree) || !strings.Contains(err.Error(), `task "app/workers/decider": maintenance window`) {
			t.Fatalf("Run() = %v; want the decider's ErrStopTree", err)
		}
		if got, want := j.get(), []string{"start db", "start sibling", "stop sibling", "stop db"}; !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q", got, want)
		}
	})
}

func TestRestartStormStaysWithinIntensity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, per = 5, 10 * time.Second
		var ev eventLog
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(ev.record), shepherd.MaxRestarts(n, per))
		// Two services failing constantly, each restarted after about 1.5s:
		// together about 13 restarts per 10s, over the limit of 5.
		for _, name := range []string{"a", "b"} {
			sup.Add(name, flapper(1<<30), shepherd.Restart(shepherd.Always),
				shepherd.Backoff{Min: 1500 * time.Millisecond, Max: 1500 * time.Millisecond, Jitter: 0.5})
		}
		err := sup.Run(context.Background())
		var rl *shepherd.RestartLimitError
		if !errors.As(err, &rl) {
			t.Fatalf("Run() = %v; want a *RestartLimitError", err)
		}
		restarts := ev.of(shepherd.StateRestarting, "")
		for i := range restarts {
			inWindow := 0
			for _, r := range restarts[i:] {
				if r.Time.Sub(restarts[i].Time) < per {
					inWindow++
				}
			}
			if inWindow > n {
				t.Fatalf("%d restarts within %v starting at restart %d; MaxRestarts is %d", inWindow, per, i, n)
			}
		}
		if len(restarts) != n {
			t.Fatalf("%d restarts before giving up; want exactly %d (the limit)", len(restarts), n)
		}
	})
}

func TestSlowStormNeverHitsIntensity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev eventLog
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(ev.record), shepherd.MaxRestarts(3, 10*time.Second))
		// One restart every 4s: at most 3 in any 10s window.
		sup.Add("slow", flapper(1<<30), shepherd.Restart(shepherd.Always),
			shepherd.Backoff{Min: 4 * time.Second, Max: 4 * time.Second})
		// Stop while it waits out a backoff: a run the stop interrupts may
		// fail on its own just as it is asked to stop, and that failure
		// would rightly be reported.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute+2*time.Second)
		defer cancel()
		if err := sup.Run(ctx); err != nil {
			t.Fatalf("Run() = %v; want nil: the restart rate stays under the limit", err)
		}
		if n := len(ev.of(shepherd.StateRestarting, "")); n < 140 {
			t.Fatalf("%d restarts in 10 minutes; want about 150", n)
		}
	})
}

func TestStrategyDoesNotRestartNeverServices(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		sup := shepherd.NewSupervisor("app", shepherd.OneForAll)
		sup.Add("once", script(&j, "once"), shepherd.AwaitReady(30*time.Second)) // Never: runs once
		sup.Add("flaky", script(&j, "flaky", errBoom), shepherd.Restart(shepherd.OnFailure),
			shepherd.Backoff{Min: time.Second, Max: time.Second}, shepherd.AwaitReady(30*time.Second))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		time.Sleep(time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := []string{"start once", "start flaky", "stop once", "start flaky", "stop flaky"}
		if got := j.get(); !slices.Equal(got, want) {
			t.Fatalf("journal = %q; want %q (once stopped with flaky, not started again)", got, want)
		}
	})
}
