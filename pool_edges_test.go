package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// within waits for ch, and fails the test if it takes longer than a
// generous bound: what is under test is a hang.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return: hung", what)
		panic("unreachable")
	}
}

// troublesomeReturns is an OnUnprocessed that calls runtime.Goexit for
// item 1, panics for item 2, and takes the others back.
func troublesomeReturns(got *collector[int]) func(int) {
	return func(x int) {
		switch x {
		case 1:
			runtime.Goexit()
		case 2:
			panic("cannot take it back")
		}
		got.add(x)
	}
}

// checkTroubleReported checks that Run's error reports both failures of
// troublesomeReturns.
func checkTroubleReported(t *testing.T, err error) {
	t.Helper()
	var pe *shepherd.PanicError
	if !errors.Is(err, shepherd.ErrGoexit) || !errors.As(err, &pe) || pe.Value != "cannot take it back" {
		t.Fatalf("Run() = %v; want the Goexit and the panic of OnUnprocessed reported", err)
	}
}

func TestPoolOnUnprocessedGoexitDoesNotHang(t *testing.T) {
	t.Run("stop deadline", func(t *testing.T) {
		var got collector[int]
		started := make(chan struct{})
		pool := shepherd.NewPool("p", 1, func(ctx context.Context, x int) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}, shepherd.QueueSize(8)).OnUnprocessed(troublesomeReturns(&got))
		for i := range 5 {
			if err := pool.Submit(context.Background(), i); err != nil {
				t.Fatal(err)
			}
		}
		done := runPool(context.Background(), pool)
		<-started
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the deadline has passed
		stopped := make(chan error, 1)
		go func() { stopped <- pool.Stop(ctx) }()
		if err := within(t, stopped, "Stop"); err != nil {
			t.Fatalf("Stop() = %v; want nil", err)
		}
		checkTroubleReported(t, within(t, done, "Run"))
		h := got.get()
		slices.Sort(h)
		if !slices.Equal(h, []int{0, 3, 4}) {
			t.Fatalf("taken back %v; want [0 3 4]: the rest are still handed back", h)
		}
		if s := pool.Stats(); s.HandedBack != 5 || s.Interrupted != 1 {
			t.Fatalf("Stats() = %+v; want all 5 handed back, 1 of them interrupted", s)
		}
	})
	t.Run("StopOnError", func(t *testing.T) {
		var got collector[int]
		pool := shepherd.NewPool("p", 1, func(ctx context.Context, x int) error {
			return errBoom
		}, shepherd.StopOnError(), shepherd.QueueSize(8)).OnUnprocessed(troublesomeReturns(&got))
		for i := range 5 {
			if err := pool.Submit(context.Background(), i); err != nil {
				t.Fatal(err)
			}
		}
		err := within(t, runPool(context.Background(), pool), "Run")
		if !errors.Is(err, errBoom) {
			t.Fatalf("Run() = %v; want the failure that stopped the pool", err)
		}
		checkTroubleReported(t, err)
		if h := got.get(); !slices.Equal(h, []int{3, 4}) {
			t.Fatalf("taken back %v; want [3 4]", h)
		}
		if want := (shepherd.PoolStats{Submitted: 5, Failed: 1, HandedBack: 4, Workers: 1}); pool.Stats() != want {
			t.Fatalf("Stats() = %+v; want %+v", pool.Stats(), want)
		}
	})
}

func TestPoolItemKeyGoexitStillReportsTheFailure(t *testing.T) {
	const n = 300
	var failures atomic.Int64
	pool := shepherd.NewPool("p", 2, func(ctx context.Context, x int) error {
		if x%2 == 0 {
			panic("boom")
		}
		return errBoom
	}, shepherd.QueueSize(n)).ItemKey(func(x int) string {
		if x%3 == 0 {
			runtime.Goexit()
		}
		return fmt.Sprint("item ", x)
	})
	sup := shepherd.NewSupervisor("app", shepherd.OnEvent(func(e shepherd.Event) {
		if e.State == shepherd.StateFailed && strings.HasPrefix(e.Path, "app/p[") {
			failures.Add(1)
		}
	}))
	sup.Add("p", pool)
	for i := range n {
		if err := pool.Submit(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	pool.Close()
	if err := sup.Run(context.Background()); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if got := failures.Load(); got != n {
		t.Fatalf("%d failures reached OnEvent; want %d", got, n)
	}
	if s := pool.Stats(); s.Failed+s.Panicked != n {
		t.Fatalf("Stats() = %+v; want %d failed or panicked", s, n)
	}
}

func TestPoolHandlerStoppingItsOwnPoolGetsAnError(t *testing.T) {
	for _, derive := range []bool{false, true} {
		t.Run(fmt.Sprint("derived=", derive), func(t *testing.T) {
			stopErr := make(chan error, 1)
			var handled atomic.Int64
			var pool *shepherd.Pool[int]
			pool = shepherd.NewPool("p", 1, func(ctx context.Context, x int) error {
				handled.Add(1)
				if x == 0 {
					if derive {
						c, cancel := context.WithTimeout(ctx, time.Hour)
						defer cancel()
						ctx = c
					}
					stopErr <- pool.Stop(ctx)
				}
				return nil
			}, shepherd.QueueSize(4))
			for i := range 3 {
				if err := pool.Submit(context.Background(), i); err != nil {
					t.Fatal(err)
				}
			}
			done := runPool(context.Background(), pool)
			err := within(t, stopErr, "Stop from a handler")
			if err == nil || !strings.HasPrefix(err.Error(), `shepherd: pool "p": Stop called by one of its own handlers`) ||
				!strings.Contains(err.Error(), "call Close") {
				t.Fatalf("Stop() from a handler = %v; want an error that names the fix", err)
			}
			// The pool was closed, and drains.
			if err := within(t, done, "Run"); err != nil {
				t.Fatalf("Run() = %v; want nil", err)
			}
			if handled.Load() != 3 {
				t.Fatalf("handled %d items; want the 3 queued", handled.Load())
			}
			if err := pool.Submit(context.Background(), 9); !errors.Is(err, shepherd.ErrClosed) {
				t.Fatalf("Submit after the Stop = %v; want ErrClosed", err)
			}
		})
	}
}

// TestPoolInterruptedItemsAreHandedBackNotFailed: an item whose handler
// returns only because the stop cancelled it goes back to the owner; a
// handler that fails on its own during the stop is a failure. Neither an
// interruption nor the pool's stop is logged at ERROR.
func TestPoolInterruptedItemsAreHandedBackNotFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got collector[int]
		var failedPaths collector[string]
		pool := shepherd.NewPool("p", 3, func(ctx context.Context, x int) error {
			<-ctx.Done()
			switch x {
			case 0:
				return ctx.Err()
			case 1:
				return fmt.Errorf("send: %w", context.Cause(ctx))
			}
			return errBoom // a failure of its own, even now
		}, shepherd.QueueSize(4)).OnUnprocessed(got.add)
		logs := &recordingHandler{}
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(time.Second), shepherd.Logger(slog.New(logs)),
			shepherd.OnEvent(func(e shepherd.Event) {
				if e.State == shepherd.StateFailed {
					failedPaths.add(e.Path)
				}
			}))
		sup.Add("p", pool)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		for i := range 4 {
			if err := pool.Submit(context.Background(), i); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		cancel() // the stop's budget of 1s passes with 3 in flight and 1 queued
		if err := <-done; err != nil {
			t.Errorf("Run = %v; want nil", err)
		}
		h := got.get()
		slices.Sort(h)
		if !slices.Equal(h, []int{0, 1, 3}) {
			t.Fatalf("handed back %v; want [0 1 3]: the 2 interrupted and the 1 queued", h)
		}
		if want := (shepherd.PoolStats{Submitted: 4, Failed: 1, HandedBack: 3, Interrupted: 2, Workers: 3}); pool.Stats() != want {
			t.Fatalf("Stats() = %+v; want %+v", pool.Stats(), want)
		}
		if f := failedPaths.get(); !slices.Equal(f, []string{"app/p[2]"}) {
			t.Fatalf("failures reported: %v; want only app/p[2]", f)
		}
		for _, r := range logs.get() {
			if r.level >= slog.LevelError && !strings.Contains(r.attrs, "path=app/p[2]") {
				t.Errorf("logged at %v: %s %s; want only the real failure at ERROR", r.level, r.msg, r.attrs)
			}
		}
		if !slices.ContainsFunc(logs.get(), func(r logRecord) bool {
			return r.msg == "shepherd: pool stopped" && strings.Contains(r.attrs, "handed_back=3 interrupted=2")
		}) {
			t.Errorf("no pool stopped record counting 2 interrupted among 3 handed back:\n%v", logs.get())
		}
	})
}

// logRecord is what recordingHandler keeps of a record.
type logRecord struct {
	level slog.Level
	msg   string
	attrs string
}

// recordingHandler is a slog.Handler that records every record.
type recordingHandler struct {
	mu      sync.Mutex
	records []logRecord
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, "%s=%v ", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, logRecord{r.Level, r.Message, b.String()})
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) get() []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.records)
}

// TestPoolNoItemStartsOnceRunsContextIsDone: the first item cancels Run's
// context; the second, queued behind it, must be handed back, never
// started. Many rounds, since the old race lost only sometimes.
func TestPoolNoItemStartsOnceRunsContextIsDone(t *testing.T) {
	for round := range 300 {
		var got collector[int]
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan int, 2)
		pool := shepherd.NewPool("p", 1, func(_ context.Context, x int) error {
			started <- x
			if x == 0 {
				cancel()
			}
			return nil
		}, shepherd.QueueSize(2)).OnUnprocessed(got.add)
		if err := pool.Submit(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		if err := pool.Submit(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		if err := pool.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: Run() = %v; want context.Canceled", round, err)
		}
		close(started)
		var ran []int
		for x := range started {
			ran = append(ran, x)
		}
		if !slices.Equal(ran, []int{0}) || !slices.Equal(got.get(), []int{1}) {
			t.Fatalf("round %d: started %v, handed back %v; want [0] and [1]", round, ran, got.get())
		}
	}
}

// TestPoolRunsContextFirstWins: when Run's context is cancelled before
// Stop is called, Run returns ctx's error every time, even though the
// drain that Stop starts may finish before Run looks.
func TestPoolRunsContextFirstWins(t *testing.T) {
	for round := range 500 {
		pool := shepherd.NewPool("p", 2, func(context.Context, int) error { return nil }).OnUnprocessed(func(int) {})
		ctx, cancel := context.WithCancel(context.Background())
		done := runPool(ctx, pool)
		if err := pool.Submit(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := pool.Stop(context.Background()); err != nil {
			t.Fatalf("round %d: Stop() = %v", round, err)
		}
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: Run() = %v; want context.Canceled: ctx was done before Stop was called", round, err)
		}
	}
}
