package shepherd_test

import (
	"context"
	"errors"
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

// runPool runs p.Run in the background; the channel yields its result.
func runPool[T any](ctx context.Context, p *shepherd.Pool[T]) <-chan error {
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return done
}

// collector records items, safe for concurrent use.
type collector[T any] struct {
	mu    sync.Mutex
	items []T
}

func (c *collector[T]) add(x T) {
	c.mu.Lock()
	c.items = append(c.items, x)
	c.mu.Unlock()
}

func (c *collector[T]) get() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.items)
}

func TestPoolHandlesEveryItemOnClose(t *testing.T) {
	var got collector[int]
	p := shepherd.NewPool("squares", 3, func(ctx context.Context, x int) error {
		got.add(x * x)
		return nil
	})
	done := runPool(context.Background(), p)
	for i := range 100 {
		if err := p.Submit(context.Background(), i); err != nil {
			t.Fatalf("Submit(%d) = %v; want nil", i, err)
		}
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v; want nil after a clean drain", err)
	}
	squares := got.get()
	slices.Sort(squares)
	for i, sq := range squares {
		if sq != i*i {
			t.Fatalf("handled %v; want the squares of 0..99", squares)
		}
	}
	if len(squares) != 100 {
		t.Fatalf("handled %d items; want 100", len(squares))
	}
	want := shepherd.PoolStats{Submitted: 100, Done: 100, Workers: 3}
	if s := p.Stats(); s != want {
		t.Fatalf("Stats() = %+v; want %+v", s, want)
	}
}

func TestPoolBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := shepherd.NewPool("slow", 1, func(ctx context.Context, x int) error {
			<-release
			return nil
		}, shepherd.QueueSize(2))
		done := runPool(context.Background(), p)
		ctx := context.Background()
		// One item in the worker's hands, two in the queue.
		for i := range 3 {
			if err := p.Submit(ctx, i); err != nil {
				t.Fatalf("Submit(%d) = %v; want nil", i, err)
			}
			synctest.Wait()
		}
		if err := p.TrySubmit(3); !errors.Is(err, shepherd.ErrQueueFull) {
			t.Fatalf("TrySubmit on a full queue = %v; want ErrQueueFull", err)
		}
		var returned atomic.Bool
		go func() {
			if err := p.Submit(ctx, 4); err != nil {
				t.Errorf("blocked Submit = %v; want nil once a slot frees", err)
			}
			returned.Store(true)
		}()
		synctest.Wait()
		if returned.Load() {
			t.Fatal("Submit returned while the queue was full; want it to block")
		}
		if s := p.Stats(); s.Queued != 2 || s.InFlight != 1 || s.Submitted != 3 {
			t.Fatalf("Stats() while full = %+v; want 3 submitted, 2 queued, 1 in flight", s)
		}
		release <- struct{}{} // the worker finishes one item and takes the next
		synctest.Wait()
		if !returned.Load() {
			t.Fatal("Submit still blocked after a slot freed")
		}
		close(release)
		p.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if s := p.Stats(); s.Done != 4 || s.Submitted != 4 {
			t.Fatalf("Stats() = %+v; want 4 submitted and done", s)
		}
	})
}

func TestPoolSubmitWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := shepherd.NewPool("slow", 1, func(ctx context.Context, x int) error { <-release; return nil }, shepherd.QueueSize(0))
		done := runPool(context.Background(), p)
		if err := p.Submit(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if err := p.Submit(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Submit with a full pool and a 1s timeout = %v; want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Submit gave up after %v; want 1s", d)
		}
		close(release)
		p.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if s := p.Stats(); s.Submitted != 1 || s.Done != 1 {
			t.Fatalf("Stats() = %+v; want the refused item not counted", s)
		}
	})
}

func TestPoolSubmitAfterStopIsErrClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := shepherd.NewPool("slow", 1, func(ctx context.Context, x int) error { <-release; return nil }, shepherd.QueueSize(1))
		done := runPool(context.Background(), p)
		ctx := context.Background()
		if err := p.Submit(ctx, 1); err != nil { // in the worker
			t.Fatal(err)
		}
		if err := p.Submit(ctx, 2); err != nil { // queued
			t.Fatal(err)
		}
		synctest.Wait()
		blocked := make(chan error)
		go func() { blocked <- p.Submit(ctx, 3) }()
		synctest.Wait()
		p.Close()
		if err := <-blocked; !errors.Is(err, shepherd.ErrClosed) {
			t.Fatalf("Submit blocked when Close was called = %v; want ErrClosed", err)
		}
		if err := p.Submit(ctx, 4); !errors.Is(err, shepherd.ErrClosed) {
			t.Fatalf("Submit during the drain = %v; want ErrClosed", err)
		}
		if err := p.TrySubmit(5); !errors.Is(err, shepherd.ErrClosed) {
			t.Fatalf("TrySubmit during the drain = %v; want ErrClosed", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := p.Submit(ctx, 6); !errors.Is(err, shepherd.ErrClosed) {
			t.Fatalf("Submit after Run returned = %v; want ErrClosed", err)
		}
		if s := p.Stats(); s.Submitted != 2 || s.Done != 2 {
			t.Fatalf("Stats() = %+v; want the 2 accepted items done", s)
		}
	})
}

// TestPoolSubmitDuringDrainIsNeverLost races submitters against Close: each
// item is either accepted and then handled, or refused with ErrClosed.
func TestPoolSubmitDuringDrainIsNeverLost(t *testing.T) {
	for range 50 {
		var handled atomic.Int64
		p := shepherd.NewPool("race", 2, func(ctx context.Context, x int) error {
			handled.Add(1)
			return nil
		}, shepherd.QueueSize(4))
		done := runPool(context.Background(), p)
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					var err error
					if i%2 == 0 {
						err = p.Submit(context.Background(), i)
					} else {
						err = p.TrySubmit(i)
					}
					switch {
					case err == nil:
						accepted.Add(1)
					case errors.Is(err, shepherd.ErrClosed):
						return
					case !errors.Is(err, shepherd.ErrQueueFull):
						t.Errorf("Submit = %v; want nil, ErrQueueFull or ErrClosed", err)
						return
					}
				}
			}()
		}
		eventually(t, func() bool { return accepted.Load() > 100 })
		p.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if a, h := accepted.Load(), handled.Load(); a != h {
			t.Fatalf("accepted %d items, handled %d; want every accepted item handled", a, h)
		}
		if s := p.Stats(); s.Submitted != accepted.Load() || s.Done != s.Submitted || s.HandedBack != 0 {
			t.Fatalf("Stats() = %+v; want %d submitted and done", s, accepted.Load())
		}
	}
}

func TestPoolNeverRunsMoreThanWorkers(t *testing.T) {
	const workers = 3
	var running, most atomic.Int64
	p := shepherd.NewPool("bounded", workers, func(ctx context.Context, x int) error {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		for range x % 5 {
			runtime.Gosched()
		}
		running.Add(-1)
		return nil
	})
	done := runPool(context.Background(), p)
	var wg sync.WaitGroup
	for s := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				if err := p.Submit(context.Background(), s*500+i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m > workers {
		t.Fatalf("%d handlers ran at once; want at most %d", m, workers)
	}
	if s := p.Stats(); s.Done != 4000 {
		t.Fatalf("Stats() = %+v; want 4000 done", s)
	}
}

// poolEvents records the events of a supervision tree.
type poolEvents struct{ collector[shepherd.Event] }

func (l *poolEvents) of(kind shepherd.State) []shepherd.Event {
	var out []shepherd.Event
	for _, e := range l.get() {
		if e.State == kind {
			out = append(out, e)
		}
	}
	return out
}

func TestPoolHandlerFailuresAreItemFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events poolEvents
		var handled collector[int]
		pool := shepherd.NewPool("reports", 1, func(ctx context.Context, x int) error {
			handled.add(x)
			switch x {
			case 1:
				return errBoom
			case 3:
				panic("bad report")
			}
			return nil
		})
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(events.add))
		sup.Add("reports", pool)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		for i := range 5 {
			if err := pool.Submit(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v; want nil: item failures do not fail the pool", err)
		}
		if got := handled.get(); !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
			t.Fatalf("handled %v; want every item, the worker carrying on after failures", got)
		}
		var failed, panicked []shepherd.Event
		for _, e := range events.of(shepherd.StateFailed) {
			if _, ok := e.Err.(*shepherd.PanicError); ok {
				panicked = append(panicked, e)
			} else {
				failed = append(failed, e)
			}
		}
		if len(failed) != 1 || failed[0].Path != "app/reports[1]" || failed[0].Err.Error() != `task "app/reports[1]": boom` {
			t.Fatalf("failed events = %+v; want one for app/reports[1]", failed)
		}
		var pe *shepherd.PanicError
		if len(panicked) != 1 || panicked[0].Path != "app/reports[3]" || !errors.As(panicked[0].Err, &pe) || pe.Value != "bad report" {
			t.Fatalf("panicked events = %+v; want one for app/reports[3]", panicked)
		}
		if !strings.Contains(pe.Stack(), "TestPoolHandlerFailuresAreItemFailures") {
			t.Fatalf("panic stack does not show the handler:\n%s", pe.Stack())
		}
		want := shepherd.PoolStats{Submitted: 5, Done: 3, Failed: 1, Panicked: 1, Workers: 1}
		if s := pool.Stats(); s != want {
			t.Fatalf("Stats() = %+v; want %+v", s, want)
		}
	})
}

type order struct {
	ID   int
	Note string
}

func TestPoolItemKeyNamesFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events poolEvents
		pool := shepherd.NewPool("orders", 2, func(ctx context.Context, o order) error {
			if o.Note == "bad" {
				return errBoom
			}
			return nil
		}).ItemKey(func(o order) string {
			if o.ID == 0 {
				panic("no id") // falls back to the position
			}
			return "order " + string(rune('0'+o.ID))
		})
		sup := shepherd.NewSupervisor("shop", shepherd.OnEvent(events.add))
		sup.Add("orders", pool)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		if err := pool.Submit(ctx, order{ID: 7, Note: "bad"}); err != nil {
			t.Fatal(err)
		}
		if err := pool.Submit(ctx, order{ID: 0, Note: "bad"}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v; want nil", err)
		}
		var paths []string
		for _, e := range events.of(shepherd.StateFailed) {
			paths = append(paths, e.Path)
		}
		slices.Sort(paths)
		if want := []string{"shop/orders[1]", "shop/orders[order 7]"}; !slices.Equal(paths, want) {
			t.Fatalf("failure paths = %q; want %q", paths, want)
		}
	})
}

func TestPoolStopOnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var handedBack collector[int]
		var handled collector[int]
		var cause error
		started1 := make(chan struct{})
		pool := shepherd.NewPool("strict", 2, func(ctx context.Context, x int) error {
			handled.add(x)
			switch x {
			case 0:
				<-started1
				return errBoom
			case 1:
				close(started1)
				<-ctx.Done() // in flight when the pool fails
				cause = context.Cause(ctx)
				return ctx.Err()
			}
			return nil
		}, shepherd.StopOnError(), shepherd.QueueSize(10)).OnUnprocessed(handedBack.add)
		// Queue everything before the workers start, so the failure finds
		// items still queued.
		for i := range 5 {
			if err := pool.Submit(context.Background(), i); err != nil {
				t.Fatal(err)
			}
		}
		err := pool.Run(context.Background())
		if got, want := err.Error(), `task "strict[0]": boom`; got != want {
			t.Fatalf("Run() = %q; want %q", got, want)
		}
		if !errors.Is(cause, errBoom) {
			t.Fatalf("the in-flight handler saw cause %v; want the failure", cause)
		}
		if err := pool.Submit(context.Background(), 9); !errors.Is(err, shepherd.ErrClosed) {
			t.Fatalf("Submit after the failure = %v; want ErrClosed", err)
		}
		h, b := handled.get(), handedBack.get()
		slices.Sort(h)
		slices.Sort(b)
		// Item 1 was in flight and returned only because the failure
		// cancelled it: it was not handled, and is handed back too.
		if !slices.Equal(h, []int{0, 1}) || !slices.Equal(b, []int{1, 2, 3, 4}) {
			t.Fatalf("handlers called for %v, handed back %v; want [0 1] and [1 2 3 4]", h, b)
		}
		want := shepherd.PoolStats{Submitted: 5, Failed: 1, HandedBack: 4, Interrupted: 1, Workers: 2}
		if s := pool.Stats(); s != want {
			t.Fatalf("Stats() = %+v; want %+v", s, want)
		}
	})
}

func TestPoolStopDeadlineHandsQueueBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var handedBack collector[int]
		var finished collector[int]
		pool := shepherd.NewPool("slow", 2, func(ctx context.Context, x int) error {
			select {
			case <-time.After(time.Second):
				finished.add(x)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, shepherd.QueueSize(10)).OnUnprocessed(handedBack.add)
		done := runPool(context.Background(), pool)
		synctest.Wait()
		for i := range 10 {
			if err := pool.Submit(context.Background(), i); err != nil {
				t.Fatal(err)
			}
		}
		// Two rounds of two items fit in 2.5s; the third round is cut.
		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		defer cancel()
		// Everything not handled is handed back: the cut is not a failure.
		if err := pool.Stop(ctx); err != nil {
			t.Fatalf("Stop() = %v; want nil: nothing was lost", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v; want nil: every item given up was handed back", err)
		}
		if got := len(finished.get()); got != 4 {
			t.Fatalf("%d items finished; want 4 in 2.5s on 2 workers", got)
		}
		if got := len(handedBack.get()); got != 6 {
			t.Fatalf("%d items handed back; want the 4 never started and the 2 cut short in flight", got)
		}
		want := shepherd.PoolStats{Submitted: 10, Done: 4, HandedBack: 6, Interrupted: 2, Workers: 2}
		if s := pool.Stats(); s != want {
			t.Fatalf("Stats() = %+v; want %+v (the 2 cut in flight are handed back, not failed)", s, want)
		}
	})
}

func TestPoolWithoutOnUnprocessedCountsDroppedItems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := shepherd.NewPool("reports", 1, func(ctx context.Context, x int) error {
			<-ctx.Done()
			return nil
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := runPool(ctx, pool)
		for i := range 4 {
			if err := pool.Submit(context.Background(), i); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		cancel()
		err := <-done
		if !errors.Is(err, shepherd.ErrUnprocessed) {
			t.Fatalf("Run() = %v; want ErrUnprocessed", err)
		}
		want := `task "reports": shepherd: accepted items not processed: 3 accepted items dropped at stop; pass OnUnprocessed to get such items back`
		if err.Error() != want {
			t.Fatalf("Run() = %q;\nwant      %q", err, want)
		}
		if s := pool.Stats(); s.HandedBack != 3 || s.Done != 1 {
			t.Fatalf("Stats() = %+v; want 1 done and 3 handed back", s)
		}
	})
}

func TestPoolRunContextDoneHandsQueueBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var handedBack collector[int]
		pool := shepherd.NewPool("reports", 1, func(ctx context.Context, x int) error {
			<-ctx.Done()
			return ctx.Err()
		}).OnUnprocessed(handedBack.add)
		ctx, cancel := context.WithCancel(context.Background())
		done := runPool(ctx, pool)
		for i := range 3 {
			if err := pool.Submit(context.Background(), i); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run() = %v; want context.Canceled", err)
		}
		got := handedBack.get()
		slices.Sort(got)
		if !slices.Equal(got, []int{0, 1, 2}) {
			t.Fatalf("handed back %v; want [0 1 2]: the 2 queued and the 1 in flight, cancelled", got)
		}
	})
}

func TestPoolSubmitBeforeRun(t *testing.T) {
	var handled collector[int]
	pool := shepherd.NewPool("early", 2, func(ctx context.Context, x int) error { handled.add(x); return nil })
	for i := range 3 {
		if err := pool.Submit(context.Background(), i); err != nil {
			t.Fatalf("Submit before Run = %v; want the item queued", err)
		}
	}
	if s := pool.Stats(); s.Queued != 3 {
		t.Fatalf("Stats() before Run = %+v; want 3 queued", s)
	}
	pool.Close() // before Run: Run handles the queue, then returns
	if err := pool.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := handled.get(); len(got) != 3 {
		t.Fatalf("handled %v; want the 3 items queued before Run", got)
	}
}

func TestPoolStopBeforeRun(t *testing.T) {
	t.Run("Run starts during Stop", func(t *testing.T) {
		var handled collector[int]
		pool := shepherd.NewPool("late", 2, func(ctx context.Context, x int) error { handled.add(x); return nil })
		if err := pool.Submit(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		if err := pool.Submit(context.Background(), 2); err != nil {
			t.Fatal(err)
		}
		done := runPool(context.Background(), pool) // may not have started when Stop is called
		if err := pool.Stop(context.Background()); err != nil {
			t.Fatalf("Stop() = %v; want nil once Run has drained the queue", err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := handled.get(); len(got) != 2 {
			t.Fatalf("handled %v; want both items", got)
		}
	})
	t.Run("Run never starts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var handedBack collector[int]
			pool := shepherd.NewPool("never", 2, func(ctx context.Context, x int) error {
				t.Error("handler called for an item handed back")
				return nil
			}).OnUnprocessed(handedBack.add)
			if err := pool.Submit(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			if err := pool.Submit(context.Background(), 2); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if err := pool.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Stop() on a pool that never runs = %v; want context.DeadlineExceeded once ctx is done", err)
			}
			if got := handedBack.get(); !slices.Equal(got, []int{1, 2}) {
				t.Fatalf("handed back %v; want [1 2]", got)
			}
			if err := pool.Run(context.Background()); err != nil {
				t.Fatalf("Run() after the queue was handed back = %v; want nil", err)
			}
			if want := (shepherd.PoolStats{Submitted: 2, HandedBack: 2, Workers: 2}); pool.Stats() != want {
				t.Fatalf("Stats() = %+v; want %+v", pool.Stats(), want)
			}
		})
	})
	t.Run("without OnUnprocessed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pool := shepherd.NewPool("bare", 1, func(ctx context.Context, x int) error { return nil })
			if err := pool.Submit(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			err := pool.Stop(ctx)
			if !errors.Is(err, shepherd.ErrUnprocessed) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Stop() = %v; want the deadline and the dropped item", err)
			}
		})
	})
}

func TestPoolRunTwiceAndCloseTwice(t *testing.T) {
	pool := shepherd.NewPool("once", 1, func(ctx context.Context, x int) error { return nil })
	pool.Close()
	pool.Close()
	if err := pool.Run(context.Background()); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	err := pool.Run(context.Background())
	if want := `shepherd: pool "once": Run called twice; a Pool runs once, make a new one`; err == nil || err.Error() != want {
		t.Fatalf("second Run() = %v; want %q", err, want)
	}
	pool.Close()
	if err := pool.Stop(context.Background()); err != nil {
		t.Fatalf("Stop() after Run returned = %v; want nil", err)
	}
}

func TestPoolGoexitInHandler(t *testing.T) {
	var handled atomic.Int64
	pool := shepherd.NewPool("exits", 1, func(ctx context.Context, x int) error {
		handled.Add(1)
		if x == 1 {
			runtime.Goexit()
		}
		return nil
	})
	for i := range 4 {
		if err := pool.Submit(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	pool.Close()
	if err := pool.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if handled.Load() != 4 {
		t.Fatalf("handled %d items; want 4: a new worker replaces the one that exited", handled.Load())
	}
	if want := (shepherd.PoolStats{Submitted: 4, Done: 3, Failed: 1, Workers: 1}); pool.Stats() != want {
		t.Fatalf("Stats() = %+v; want %+v", pool.Stats(), want)
	}
}

func TestPoolOnUnprocessedPanicIsReported(t *testing.T) {
	pool := shepherd.NewPool("p", 1, func(ctx context.Context, x int) error { return nil }).OnUnprocessed(func(x int) { panic("cannot take it back") })
	if err := pool.Submit(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := pool.Run(ctx)
	var pe *shepherd.PanicError
	if !errors.As(err, &pe) || pe.Task != "p" || pe.Value != "cannot take it back" {
		t.Fatalf("Run() = %v; want the OnUnprocessed panic", err)
	}
	if s := pool.Stats(); s.HandedBack != 1 {
		t.Fatalf("Stats() = %+v; want 1 handed back", s)
	}
}

func TestPoolSubmitDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	pool := shepherd.NewPool("hot", 2, tiny, shepherd.QueueSize(64))
	done := runPool(context.Background(), pool)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(10_000, func() {
		if err := pool.Submit(ctx, 1); err != nil {
			t.Fatal(err)
		}
	})
	pool.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Fatalf("Submit and dequeue allocate %v times per item; want 0", allocs)
	}
}

func TestPoolInSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		pool := shepherd.NewPool("reports", 1, func(ctx context.Context, x int) error { <-release; return nil })
		sup := shepherd.NewSupervisor("app")
		sup.Add("reports", pool)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		if err := pool.Submit(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if err := pool.Submit(ctx, 2); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		n := sup.Snapshot().Children[0]
		if n.Kind != "pool" || n.Stats == nil || *n.Stats != (shepherd.PoolStats{Submitted: 2, Queued: 1, InFlight: 1, Workers: 1}) {
			t.Fatalf("Snapshot node = %+v (stats %+v); want a pool with 1 queued and 1 in flight", n, n.Stats)
		}
		close(release)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
