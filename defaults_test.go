package shepherd_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// levels is a slog handler that records each record's level by message
// and path.
type levels struct {
	mu  *sync.Mutex
	got map[string]slog.Level // "message path" -> level
}

func newLevels() levels { return levels{mu: new(sync.Mutex), got: map[string]slog.Level{}} }

func (h levels) Enabled(context.Context, slog.Level) bool { return true }
func (h levels) Handle(_ context.Context, r slog.Record) error {
	path := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "path" {
			path = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.got[r.Message+" "+path] = r.Level
	h.mu.Unlock()
	return nil
}
func (h levels) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h levels) WithGroup(string) slog.Handler      { return h }

func (h levels) level(key string) (slog.Level, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.got[key]
	return l, ok
}

func TestDefaultBackoff(t *testing.T) {
	// Without a Backoff a restart waits 100ms, doubling up to 10s, each
	// delay less a random part of up to 20%.
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var delays []time.Duration
		sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(40, time.Hour), shepherd.OnEvent(func(e shepherd.Event) {
			if e.State == shepherd.StateRestarting {
				mu.Lock()
				delays = append(delays, e.Delay)
				mu.Unlock()
			}
		}))
		runs := 0
		sup.Add("flaky", shepherd.ServiceFunc(func(context.Context) error {
			runs++
			if runs > 30 {
				return shepherd.ErrStopTree
			}
			return errBoom
		}), shepherd.Restart(shepherd.OnFailure))
		if err := sup.Run(context.Background()); !errors.Is(err, shepherd.ErrStopTree) {
			t.Fatalf("Run() = %v; want ErrStopTree", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(delays) != 30 {
			t.Fatalf("%d restarts; want 30", len(delays))
		}
		jittered := 0
		for i, d := range delays {
			nominal := min(100*time.Millisecond<<i, 10*time.Second)
			if d > nominal || d < nominal*8/10 {
				t.Fatalf("restart %d waited %v; want within 20%% below %v", i+1, d, nominal)
			}
			if d < nominal*9/10 {
				jittered++
			}
		}
		// Half the delays fall in the lower half of a 20% jitter; a
		// jitter of 10% or less would put none there.
		if jittered == 0 {
			t.Fatalf("no delay of %v was more than 10%% below its nominal value; want a jitter of 20%%", delays)
		}
	})
}

func TestDefaultMaxRestarts(t *testing.T) {
	// Without MaxRestarts a supervisor allows 5 restarts within 30s: the
	// sixth failure in that time escalates.
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app")
		runs := 0
		sup.Add("flaky", shepherd.ServiceFunc(func(context.Context) error {
			runs++
			return errBoom
		}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: time.Second, Max: time.Second})
		err := sup.Run(context.Background())
		var rl *shepherd.RestartLimitError
		if !errors.As(err, &rl) || rl.Restarts != 5 || rl.Period != 30*time.Second {
			t.Fatalf("Run() = %v; want a *RestartLimitError for 5 restarts in 30s", err)
		}
		if runs != 6 {
			t.Fatalf("the service ran %d times; want 6 (5 restarts)", runs)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		// Failures 7s apart never put 6 in one 30s window.
		sup := shepherd.NewSupervisor("app")
		runs := 0
		sup.Add("flaky", shepherd.ServiceFunc(func(context.Context) error {
			runs++
			if runs > 10 {
				return shepherd.ErrStopTree
			}
			return errBoom
		}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: 7 * time.Second, Max: 7 * time.Second})
		if err := sup.Run(context.Background()); !errors.Is(err, shepherd.ErrStopTree) {
			t.Fatalf("Run() = %v; want ErrStopTree: 10 restarts 7s apart are within 5 per 30s", err)
		}
	})
}

func TestEventLogLevels(t *testing.T) {
	// Start and ready at Debug, exit and stop at Info, restarts at Warn,
	// failures and panics at Error.
	synctest.Test(t, func(t *testing.T) {
		h := newLevels()
		sup := shepherd.NewSupervisor("app", shepherd.Logger(slog.New(h)))
		runs := 0
		sup.Add("flaky", shepherd.ServiceFunc(func(ctx context.Context) error {
			runs++
			if runs == 1 {
				return errBoom
			}
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure))
		sup.Add("done", shepherd.ServiceFunc(func(context.Context) error { return nil }))
		sup.Add("panics", shepherd.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(time.Second)
			panic("boom")
		}))
		if err := sup.Run(context.Background()); err == nil {
			t.Error("Run = nil; want the panic of app/panics")
		}
		for key, want := range map[string]slog.Level{
			"shepherd: starting app/flaky":   slog.LevelDebug,
			"shepherd: ready app/flaky":      slog.LevelDebug,
			"shepherd: failed app/flaky":     slog.LevelError,
			"shepherd: restarting app/flaky": slog.LevelWarn,
			"shepherd: exited app/done":      slog.LevelInfo,
			"shepherd: panicked app/panics":  slog.LevelError,
			"shepherd: stopping app/flaky":   slog.LevelInfo,
			"shepherd: stopped app/flaky":    slog.LevelInfo,
		} {
			if got, ok := h.level(key); !ok || got != want {
				t.Errorf("%q logged at %v (logged: %v); want %v", key, got, ok, want)
			}
		}
	})
}

func TestNestedSupervisorInheritsLogger(t *testing.T) {
	// A nested supervisor without a Logger logs to its parent's; one with
	// a Logger of its own logs there instead.
	parent, own := newLevels(), newLevels()
	root := shepherd.NewSupervisor("app", shepherd.Logger(slog.New(parent)))
	inherits := shepherd.NewSupervisor("inherits")
	inherits.Add("s", shepherd.ServiceFunc(func(context.Context) error { return nil }))
	owns := shepherd.NewSupervisor("owns", shepherd.Logger(slog.New(own)))
	owns.Add("s", shepherd.ServiceFunc(func(context.Context) error { return nil }))
	root.Add("inherits", inherits)
	root.Add("owns", owns)
	if err := root.Run(context.Background()); err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if _, ok := parent.level("shepherd: exited app/inherits/s"); !ok {
		t.Error("the nested supervisor without a Logger did not log to its parent's")
	}
	if _, ok := own.level("shepherd: exited app/owns/s"); !ok {
		t.Error("the nested supervisor with a Logger did not log to its own")
	}
	if _, ok := parent.level("shepherd: exited app/owns/s"); ok {
		t.Error("the nested supervisor with a Logger also logged to its parent's")
	}
}
