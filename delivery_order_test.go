package shepherd_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

var errFlaky = errors.New("flaky")

func TestNestedSinkEventsFollowTheirCause(t *testing.T) {
	// A nested supervisor that sets a sink of its own delivers through its
	// own goroutine, but its events still reach a hook shared with its
	// parent after the parent's events that caused them: each run of the
	// nested supervisor is announced (its StateStarting event, posted by the
	// parent) before any event of its services in that run. Otherwise a
	// reader that counts runs, as one must to check MaxRestarts, counts a
	// restart in the wrong run.
	const runs = 30
	for range runs {
		synctest.Test(t, func(t *testing.T) {
			var mu sync.Mutex
			var events []shepherd.Event
			record := func(e shepherd.Event) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			}
			sub := shepherd.NewSupervisor("sub", shepherd.OnEvent(record), shepherd.MaxRestarts(2, time.Hour))
			sub.Add("flaky", shepherd.ServiceFunc(func(context.Context) error { return errFlaky }),
				shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{})
			root := shepherd.NewSupervisor("app", shepherd.OnEvent(record), shepherd.MaxRestarts(3, time.Hour))
			root.Add("sub", sub, shepherd.Restart(shepherd.Always), shepherd.Backoff{})
			var rle *shepherd.RestartLimitError
			if err := root.Run(context.Background()); !errors.As(err, &rle) || rle.Supervisor != "app" {
				t.Fatalf("Run() = %v; want app's *RestartLimitError", err)
			}
			mu.Lock()
			defer mu.Unlock()
			// Restarts of flaky per run of sub: MaxRestarts(2) allows two.
			perRun := map[int]int{}
			run := 0
			for _, e := range events {
				switch {
				case e.Path == "app/sub" && e.State == shepherd.StateStarting:
					run++
				case strings.HasPrefix(e.Path, "app/sub/"):
					if run == 0 {
						t.Fatalf("%s %v delivered before app/sub started", e.Path, e.State)
					}
					if e.State == shepherd.StateRestarting {
						perRun[run]++
					}
				}
			}
			if run != 4 {
				t.Errorf("app/sub started %d times; want 4 (its first run and three restarts)", run)
			}
			for r, n := range perRun {
				if n != 2 {
					t.Errorf("run %d of app/sub has %d restarts of flaky; want 2 (its MaxRestarts)", r, n)
				}
			}
		})
	}
}

func TestHookStopsNestedSupervisorWithItsOwnSink(t *testing.T) {
	// The nested supervisor's events wait for the parent's hook, which is
	// calling Stop on it: Stop must not wait for that Run, which waits for
	// the hook, or it would return only at the end of the budget. Its
	// Run's result names no stuck sink: none of its own is blocked.
	synctest.Test(t, func(t *testing.T) {
		sub := shepherd.NewSupervisor("sub", shepherd.OnEvent(func(shepherd.Event) {}),
			shepherd.ShutdownTimeout(time.Minute))
		sub.Add("a", blockUntilDone)
		took := time.Duration(-1)
		var once sync.Once
		root := shepherd.NewSupervisor("app", shepherd.OnEvent(func(e shepherd.Event) {
			if e.Path == "app/sub" && e.State == shepherd.StateRunning {
				once.Do(func() {
					start := time.Now()
					sub.Stop(context.Background())
					took = time.Since(start)
				})
			}
		}))
		root.Add("sub", sub)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- root.Run(ctx) }()
		synctest.Wait()
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run() = %v; want nil", err)
		}
		if took < 0 {
			t.Fatal("the hook never saw app/sub ready")
		}
		if took != 0 {
			t.Errorf("Stop called from the parent's hook took %v; want it to return at once", took)
		}
	})
}
