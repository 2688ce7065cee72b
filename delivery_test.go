package shepherd_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// panicHandler is a slog handler that panics, or calls runtime.Goexit, on
// records at Error level; the Logger is user code like any hook.
type panicHandler struct{ goexit bool }

func (h panicHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h panicHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		if h.goexit {
			runtime.Goexit()
		}
		panic("handler exploded")
	}
	return nil
}
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicHandler) WithGroup(string) slog.Handler      { return h }

func TestBlockedHookDoesNotHoldRunPastBudget(t *testing.T) {
	// An OnEvent hook that never returns delays only its own deliveries:
	// the tree starts, stops, and Run returns at the end of the budget,
	// naming the hook stuck.
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(300*time.Millisecond),
			shepherd.OnEvent(func(shepherd.Event) { <-release }))
		sup.Add("a", blockUntilDone)
		sup.Add("b", blockUntilDone)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(ctx) }()
		synctest.Wait()
		if st := sup.Snapshot(); st.State != shepherd.StateRunning {
			t.Fatalf("Snapshot().State = %v with the hook blocked; want running", st.State)
		}
		start := time.Now()
		cancel()
		err := <-errc
		if took := time.Since(start); took > 300*time.Millisecond {
			t.Errorf("Run returned %v after the stop began; want within the 300ms budget", took)
		}
		var se *shepherd.StuckError
		if !errors.As(err, &se) || len(se.Tasks) != 1 || se.Tasks[0].Path != "app (OnEvent hook)" {
			t.Fatalf("Run() = %v; want a *StuckError naming \"app (OnEvent hook)\"", err)
		}
		close(release)
	})
}

func TestPanickingLoggerFailsItsTree(t *testing.T) {
	// A slog handler that panics, reached from the supervisor's own
	// goroutine, a Group task and a Pool worker: each time the tree fails
	// with a *PanicError for "<path> (Logger)", and the process lives.
	cases := []struct {
		name string
		svc  shepherd.Service
		path string
	}{
		{"service", shepherd.ServiceFunc(func(context.Context) error { return errors.New("boom") }), "app/s (Logger)"},
		{"group task", shepherd.ServiceFunc(func(ctx context.Context) error {
			g := shepherd.NewGroup(ctx)
			g.Go("task", func(context.Context) error { return errors.New("boom") })
			if err := g.Wait(); err == nil {
				return errors.New("Wait = nil; want the task's failure")
			}
			<-ctx.Done()
			return nil
		}), "app/s/task (Logger)"},
		{"pool worker", poolThatFails(), "app/s[0] (Logger)"},
	}
	for _, tc := range cases {
		for _, goexit := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				sup := shepherd.NewSupervisor("app", shepherd.Logger(slog.New(panicHandler{goexit: goexit})))
				sup.Add("s", tc.svc)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err := sup.Run(ctx)
				if goexit {
					var te *shepherd.TaskError
					if !errors.Is(err, shepherd.ErrGoexit) || !errors.As(err, &te) || !hasTaskPath(err, tc.path) {
						t.Fatalf("Run() = %v; want ErrGoexit for %q", err, tc.path)
					}
					return
				}
				var pe *shepherd.PanicError
				if !errors.As(err, &pe) || !hasPanicAt(err, tc.path) {
					t.Fatalf("Run() = %v; want a *PanicError for %q", err, tc.path)
				}
			})
		}
	}
}

func poolThatFails() shepherd.Service {
	return shepherd.ServiceFunc(func(ctx context.Context) error {
		p := shepherd.NewPool("items", 1, func(context.Context, int) error { return errors.New("item failed") })
		errc := make(chan error, 1)
		go func() { errc <- p.Run(ctx) }()
		if err := p.Submit(ctx, 1); err != nil {
			return err
		}
		<-ctx.Done()
		if err := p.Stop(context.Background()); err != nil {
			return err
		}
		return <-errc
	})
}

func hasPanicAt(err error, task string) bool {
	for _, e := range unwrapAll(err) {
		if pe, ok := e.(*shepherd.PanicError); ok && pe.Task == task {
			return true
		}
	}
	return false
}

func hasTaskPath(err error, path string) bool {
	for _, e := range unwrapAll(err) {
		if te, ok := e.(*shepherd.TaskError); ok && te.Path == path {
			return true
		}
	}
	return false
}

type traceKey struct{}

// ctxHandler records, for each record, the trace id in the context the
// handler was given.
type ctxHandler struct {
	mu     *sync.Mutex
	traces map[string]string // message+path -> trace id
}

func (h ctxHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	path := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "path" {
			path = a.Value.String()
		}
		return true
	})
	id, _ := ctx.Value(traceKey{}).(string)
	h.mu.Lock()
	h.traces[r.Message+" "+path] = id
	h.mu.Unlock()
	return nil
}
func (h ctxHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h ctxHandler) WithGroup(string) slog.Handler      { return h }

func TestLoggerGetsTheTaskContext(t *testing.T) {
	// Events are logged with the context of the task they are about, so a
	// handler finds trace ids and other values there.
	h := ctxHandler{mu: new(sync.Mutex), traces: map[string]string{}}
	sup := shepherd.NewSupervisor("app", shepherd.Logger(slog.New(h)))
	sup.Add("s", shepherd.ServiceFunc(func(ctx context.Context) error {
		g := shepherd.NewGroup(context.WithValue(ctx, traceKey{}, "task-trace"))
		g.Go("task", func(context.Context) error { return errors.New("boom") })
		return g.Wait()
	}))
	err := sup.Run(context.WithValue(context.Background(), traceKey{}, "run-trace"))
	if err == nil {
		t.Fatal("Run() = nil; want the task's failure")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for key, want := range map[string]string{
		"shepherd: starting app/s":    "run-trace",
		"shepherd: failed app/s":      "run-trace",
		"shepherd: failed app/s/task": "task-trace",
	} {
		if got, ok := h.traces[key]; !ok || got != want {
			t.Errorf("trace id the handler got for %q = %q (logged: %v); want %q", key, got, ok, want)
		}
	}
}

func TestHookCanStopItsOwnSupervisor(t *testing.T) {
	// A hook that calls Stop on the supervisor that calls it: Stop must
	// not wait for Run, which waits for the hook.
	for _, nested := range []bool{false, true} {
		var sup *shepherd.Supervisor
		var once sync.Once
		hook := shepherd.OnEvent(func(e shepherd.Event) {
			if e.State == shepherd.StateRunning && strings.HasSuffix(e.Path, "/s") {
				once.Do(func() { sup.Stop(context.Background()) })
			}
		})
		sup = shepherd.NewSupervisor("app", hook)
		run := sup
		if nested {
			sup = shepherd.NewSupervisor("inner", hook)
			run = shepherd.NewSupervisor("app")
			run.Add("inner", sup)
		}
		sup.Add("s", blockUntilDone)
		errc := make(chan error, 1)
		go func() { errc <- run.Run(context.Background()) }()
		select {
		case err := <-errc:
			if nested && err != nil {
				t.Fatalf("nested: Run() = %v; want nil", err)
			}
			if !nested && err != nil {
				t.Fatalf("Run() = %v; want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("nested=%v: Run did not return after the hook called Stop", nested)
		}
	}
}

func TestHookEventsArriveInOrder(t *testing.T) {
	// Delivery is asynchronous but ordered: a service's events reach the
	// hook in the order they happened.
	var mu sync.Mutex
	var kinds []shepherd.State
	sup := shepherd.NewSupervisor("app", shepherd.OnEvent(func(e shepherd.Event) {
		mu.Lock()
		kinds = append(kinds, e.State)
		mu.Unlock()
	}))
	sup.Add("s", shepherd.ServiceFunc(func(context.Context) error { return nil }))
	if err := sup.Run(context.Background()); err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []shepherd.State{shepherd.StateStarting, shepherd.StateRunning, shepherd.StateStopped}
	if len(kinds) != len(want) {
		t.Fatalf("events = %v; want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events = %v; want %v", kinds, want)
		}
	}
}
