package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/shepherd-go/shepherd"
	"go.uber.org/goleak"
)

// gate is a handler that holds each item until released, and counts the
// handlers running at once.
type gate struct {
	release         chan struct{}
	running, peak   atomic.Int64
	cancelled, done atomic.Int64
}

func newGate() *gate { return &gate{release: make(chan struct{})} }

func (g *gate) handle(ctx context.Context, _ int) error {
	n := g.running.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	defer g.running.Add(-1)
	select {
	case <-g.release:
		g.done.Add(1)
		return nil
	case <-ctx.Done():
		g.cancelled.Add(1)
		return ctx.Err()
	}
}

// TestPoolResizeGrow: growing a running pool starts the new workers at
// once, and Stats and the debug page show the new size.
func TestPoolResizeGrow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		pool := shepherd.NewPool("reports", 1, g.handle, shepherd.QueueSize(8))
		sup := shepherd.NewSupervisor("app")
		sup.Add("reports", pool)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		for i := range 6 {
			if err := pool.Submit(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		pool.Resize(4)
		synctest.Wait()
		if s := pool.Stats(); g.running.Load() != 4 || s.Workers != 4 || s.InFlight != 4 || s.Queued != 2 {
			t.Errorf("after Resize(4): %d handlers running, Stats() = %+v; want 4 running, 4 workers, 2 queued", g.running.Load(), s)
		}
		if text := debugText(t, shepherd.DebugHandler(sup)); !strings.Contains(text, "handed back 0  workers 4") {
			t.Errorf("the debug page does not show the new size:\n%s", text)
		}
		close(g.release)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if g.done.Load() != 6 {
			t.Errorf("%d items handled; want 6", g.done.Load())
		}
	})
}

// TestPoolResizeShrink: shrinking lets every busy worker finish its item
// (none is cancelled), and from then on no more than the new number of
// handlers run at once, the idle workers included.
func TestPoolResizeShrink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		first := newGate()
		var later atomic.Bool
		second := newGate()
		pool := shepherd.NewPool("reports", 4, func(ctx context.Context, x int) error {
			if later.Load() {
				return second.handle(ctx, x)
			}
			return first.handle(ctx, x)
		}, shepherd.QueueSize(8))
		ctx := context.Background()
		done := runPool(ctx, pool)
		for i := range 4 {
			if err := pool.Submit(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		pool.Resize(1)
		close(first.release)
		synctest.Wait()
		if first.done.Load() != 4 || first.cancelled.Load() != 0 {
			t.Errorf("after Resize(1): %d items handled, %d cancelled; want the 4 busy ones handled, none cancelled", first.done.Load(), first.cancelled.Load())
		}
		later.Store(true)
		for i := range 3 {
			if err := pool.Submit(ctx, 10+i); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if s := pool.Stats(); second.running.Load() != 1 || s.Workers != 1 || s.Queued != 2 {
			t.Errorf("after the shrink: %d handlers running, Stats() = %+v; want 1 running, 1 worker, 2 queued", second.running.Load(), s)
		}
		// Shrink while idle, then grow back: the idle workers exit and new
		// ones start.
		pool.Resize(3)
		synctest.Wait()
		if second.running.Load() != 3 {
			t.Errorf("after Resize(3): %d handlers running; want 3", second.running.Load())
		}
		close(second.release)
		pool.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if s := pool.Stats(); s.Done != 7 || s.Submitted != 7 || s.Queued != 0 {
			t.Errorf("Stats() = %+v; want 7 submitted and done", s)
		}
	})
}

// TestPoolResizeBeforeAndAfterRun: before Run, Resize sets the number of
// workers Run starts; after Run returned it only records the size.
func TestPoolResizeBeforeAndAfterRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		pool := shepherd.NewPool("reports", 1, g.handle)
		for i := range 5 {
			if err := pool.Submit(context.Background(), i); err != nil {
				t.Fatal(err)
			}
		}
		pool.Resize(3)
		done := runPool(context.Background(), pool)
		synctest.Wait()
		if g.running.Load() != 3 {
			t.Errorf("Resize(3) before Run: %d handlers running; want 3", g.running.Load())
		}
		close(g.release)
		pool.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		pool.Resize(5)
		pool.Resize(1)
		synctest.Wait()
		if s := pool.Stats(); s.Workers != 1 || s.Done != 5 {
			t.Errorf("Stats() = %+v; want 5 done and the last size asked for, 1", s)
		}
	})
	if got := mustPanic(t, func() { shepherd.NewPool("p", 1, func(context.Context, int) error { return nil }).Resize(0) }); got != `shepherd: pool "p": Resize(0): a pool needs at least one worker` {
		t.Errorf("Resize(0) panic %q", got)
	}
}

// TestPoolResizeConservation runs random schedules on the real clock in
// which Resize races Submit, TrySubmit, Stop (or a cancel, or Close) and
// itself, on pools with and without weights: every accepted item is
// handled or handed back exactly once, no weight is left held, and no
// goroutine outlives Run.
func TestPoolResizeConservation(t *testing.T) {
	n := *poolSeeds / 4
	if testing.Short() {
		n = 10
	}
	var total totals
	for seed := range n {
		rnd := rand.New(rand.NewPCG(uint64(seed), 0x5123))
		r := randomRun(rnd)
		r.stopOnError = false // a StopOnError pool stops at once: few resizes
		stopAt := rnd.IntN(r.submitters*r.perSubmitter + 1)
		weighted := seed%2 == 1
		t.Run(fmt.Sprintf("seed=%d/weighted=%v", seed, weighted), func(t *testing.T) {
			total.add(r.resizing(t, uint64(seed), stopAt, weighted))
		})
	}
	t.Logf("over all schedules: %+v", total.PoolStats)
	if total.Done == 0 || total.Failed == 0 || total.Panicked == 0 || total.HandedBack == 0 {
		t.Errorf("the schedules missed a path: %+v", total.PoolStats)
	}
	goleak.VerifyNone(t)
}

func (r conservationRun) resizing(t *testing.T, seed uint64, stopAt int, weighted bool) shepherd.PoolStats {
	l := newLedger()
	handle := func(ctx context.Context, id int) error {
		for range id % 13 {
			if ctx.Err() != nil {
				return l.interrupt(ctx)
			}
			runtime.Gosched()
		}
		l.mark(l.handled, id)
		switch {
		case id%r.panicEvery == 0:
			panic(fmt.Sprintf("item %d", id))
		case id%r.failEvery == 0:
			return errBoom
		}
		return nil
	}
	pool := shepherd.NewPool("conserve", r.workers, handle, shepherd.QueueSize(r.queue))
	if r.withReturns {
		pool.OnUnprocessed(func(id int) { l.mark(l.returned, id) })
	}
	if weighted {
		pool.MaxWeight(12, func(id int) int64 { return int64(id % 7) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runPool(ctx, pool)

	stop := make(chan struct{})
	var stopOnce sync.Once
	var count atomic.Int64
	var wg sync.WaitGroup
	for s := range r.submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range r.perSubmitter {
				id := s*1000 + i + 1
				var err error
				if i%3 == 0 {
					err = pool.TrySubmit(id)
				} else {
					err = pool.Submit(context.Background(), id)
				}
				switch {
				case err == nil:
					l.mark(l.accepted, id)
					if count.Add(1) >= int64(stopAt) {
						stopOnce.Do(func() { close(stop) })
					}
				case errors.Is(err, shepherd.ErrClosed):
					return
				case errors.Is(err, shepherd.ErrQueueFull):
				default:
					t.Errorf("submit = %v", err)
				}
			}
		}()
	}
	// Two resizers race each other, the submitters and the stop, and
	// keep going after it.
	var resizers sync.WaitGroup
	for k := range 2 {
		resizers.Add(1)
		go func() {
			defer resizers.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(77+k)))
			for range 30 {
				pool.Resize(1 + rnd.IntN(6))
				runtime.Gosched()
			}
		}()
	}
	go func() { wg.Wait(); stopOnce.Do(func() { close(stop) }) }()
	<-stop
	switch r.how {
	case "stop":
		sctx, scancel := context.WithTimeout(context.Background(), 0)
		if err := pool.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v; want nil, or the deadline if Run had not started yet (a cut drain hands its items back)", err)
		}
		scancel()
	case "cancel":
		cancel()
	case "close":
		pool.Close()
	}
	runErr := <-done
	wg.Wait()
	resizers.Wait()
	s := pool.Stats()
	l.check(t, s, runErr, r.withReturns)
	if s.Weight != 0 {
		t.Errorf("Stats().Weight = %d after Run returned; want every item's weight given back", s.Weight)
	}
	return s
}
