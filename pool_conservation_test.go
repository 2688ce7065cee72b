package shepherd_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
	"go.uber.org/goleak"
)

var poolSeeds = flag.Int("pool.seeds", 200, "random schedules TestPoolConservation tries")

// ledger counts what happened to each item of a conservation run.
type ledger struct {
	mu       sync.Mutex
	accepted map[int]int
	handled  map[int]int
	returned map[int]int // handed back through OnUnprocessed
	// interrupted counts the handlers that returned ctx.Err() once the
	// stop cancelled them: those items were not handled, and are handed
	// back.
	interrupted int
}

func newLedger() *ledger {
	return &ledger{accepted: map[int]int{}, handled: map[int]int{}, returned: map[int]int{}}
}

func (l *ledger) mark(m map[int]int, id int) {
	l.mu.Lock()
	m[id]++
	l.mu.Unlock()
}

// interrupt records a handler that gives up on its item because ctx is
// done, and returns the error that says so.
func (l *ledger) interrupt(ctx context.Context) error {
	l.mu.Lock()
	l.interrupted++
	l.mu.Unlock()
	return ctx.Err()
}

// check asserts that every accepted item was handled or handed back
// exactly once, and that nothing else was; withReturns says whether
// OnUnprocessed was set (without it, hand-backs are only counted).
func (l *ledger) check(t *testing.T, s shepherd.PoolStats, runErr error, withReturns bool) {
	t.Helper()
	for id, n := range l.accepted {
		h, r := l.handled[id], l.returned[id]
		switch {
		case n != 1:
			t.Errorf("item %d accepted %d times", id, n)
		case withReturns && h+r != 1:
			t.Errorf("item %d handled %d times and handed back %d times; want exactly one of them once", id, h, r)
		case !withReturns && h > 1:
			t.Errorf("item %d handled %d times", id, h)
		}
	}
	for id := range l.handled {
		if l.accepted[id] == 0 {
			t.Errorf("item %d handled but never accepted", id)
		}
	}
	for id := range l.returned {
		if l.accepted[id] == 0 {
			t.Errorf("item %d handed back but never accepted", id)
		}
	}
	finished := s.Done + s.Failed + s.Panicked
	if s.Submitted != int64(len(l.accepted)) || finished != int64(len(l.handled)) || s.Queued != 0 || s.InFlight != 0 ||
		s.Submitted != finished+s.HandedBack {
		t.Errorf("Stats() = %+v; want %d submitted, %d handled, the rest handed back", s, len(l.accepted), len(l.handled))
	}
	if s.Interrupted != int64(l.interrupted) || s.Interrupted > s.HandedBack {
		t.Errorf("Stats() = %+v; want %d interrupted, each among the handed back", s, l.interrupted)
	}
	if withReturns && s.HandedBack != int64(len(l.returned)) {
		t.Errorf("Stats().HandedBack = %d; OnUnprocessed got %d items", s.HandedBack, len(l.returned))
	}
	if !withReturns && s.HandedBack > 0 {
		want := fmt.Sprintf("%d accepted %s dropped at stop", s.HandedBack, map[bool]string{true: "item", false: "items"}[s.HandedBack == 1])
		if !errors.Is(runErr, shepherd.ErrUnprocessed) || !strings.Contains(runErr.Error(), want) {
			t.Errorf("Run() = %v; want ErrUnprocessed counting %d items", runErr, s.HandedBack)
		}
	}
}

// totals sums the outcomes over all schedules, to show that the random
// schedules reach every path: without hand-backs, failures and panics the
// test would prove little.
type totals struct{ shepherd.PoolStats }

func (to *totals) add(s shepherd.PoolStats) {
	to.Submitted += s.Submitted
	to.Done += s.Done
	to.Failed += s.Failed
	to.Panicked += s.Panicked
	to.HandedBack += s.HandedBack
	to.Interrupted += s.Interrupted
}

func (to *totals) check(t *testing.T) {
	t.Logf("over all schedules: %+v", to.PoolStats)
	if to.Done == 0 || to.Failed == 0 || to.Panicked == 0 || to.HandedBack == 0 || to.Interrupted == 0 {
		t.Errorf("the schedules missed a path: %+v; want some of each outcome", to.PoolStats)
	}
}

// conservationRun is one random schedule: its shape and how it ends.
type conservationRun struct {
	workers, queue, submitters, perSubmitter int
	stopAfter, deadline                      time.Duration
	how                                      string // "stop", "cancel", "close"
	stopOnError, withReturns                 bool
	failEvery, panicEvery                    int
}

func randomRun(rnd *rand.Rand) conservationRun {
	return conservationRun{
		workers:      1 + rnd.IntN(5),
		queue:        rnd.IntN(9),
		submitters:   1 + rnd.IntN(6),
		perSubmitter: rnd.IntN(40),
		stopAfter:    time.Duration(rnd.IntN(200)) * time.Millisecond,
		deadline:     time.Duration(rnd.IntN(60)) * time.Millisecond,
		how:          []string{"stop", "stop", "cancel", "close"}[rnd.IntN(4)],
		stopOnError:  rnd.IntN(5) == 0,
		withReturns:  rnd.IntN(4) != 0,
		failEvery:    2 + rnd.IntN(6),
		panicEvery:   3 + rnd.IntN(8),
	}
}

// TestPoolConservation runs many random schedules: random submitters,
// handler durations, errors and panics, and a stop at a random moment with
// a short deadline (or a cancelled context, or a plain Close). In every one
// each accepted item is handled or handed back exactly once.
func TestPoolConservation(t *testing.T) {
	n := *poolSeeds
	if testing.Short() {
		n = 20
	}
	var total totals
	for seed := range n {
		rnd := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
		r := randomRun(rnd)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { total.add(r.timed(t, uint64(seed))) })
		})
	}
	total.check(t)
	goleak.VerifyNone(t)
}

// timed runs the schedule on synctest's clock: handlers take 0-30ms.
func (r conservationRun) timed(t *testing.T, seed uint64) shepherd.PoolStats {
	l := newLedger()
	handle := func(ctx context.Context, id int) error {
		rnd := rand.New(rand.NewPCG(seed, uint64(id)))
		select {
		case <-time.After(time.Duration(rnd.IntN(30)) * time.Millisecond):
		case <-ctx.Done():
			return l.interrupt(ctx)
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
	opts := []shepherd.PoolOption{shepherd.QueueSize(r.queue)}
	if r.stopOnError {
		opts = append(opts, shepherd.StopOnError())
	}
	pool := shepherd.NewPool("conserve", r.workers, handle, opts...)
	if r.withReturns {
		pool.OnUnprocessed(func(id int) { l.mark(l.returned, id) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runPool(ctx, pool)

	var wg sync.WaitGroup
	for s := range r.submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(1000+s)))
			for i := range r.perSubmitter {
				id := s*1000 + i + 1
				var err error
				if rnd.IntN(3) == 0 {
					err = pool.TrySubmit(id)
				} else {
					sctx, scancel := context.WithTimeout(context.Background(), time.Duration(rnd.IntN(50))*time.Millisecond)
					err = pool.Submit(sctx, id)
					scancel()
				}
				switch {
				case err == nil:
					l.mark(l.accepted, id)
				case errors.Is(err, shepherd.ErrClosed):
					return
				case errors.Is(err, shepherd.ErrQueueFull), errors.Is(err, context.DeadlineExceeded):
				default:
					t.Errorf("Submit = %v", err)
				}
				time.Sleep(time.Duration(rnd.IntN(10)) * time.Millisecond)
			}
		}()
	}

	time.Sleep(r.stopAfter)
	switch r.how {
	case "stop":
		sctx, scancel := context.WithTimeout(context.Background(), r.deadline)
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
	l.check(t, pool.Stats(), runErr, r.withReturns)
	return pool.Stats()
}

// TestPoolConservationUnderLoad is the same check on the real clock with
// no sleeping at all: handlers spin for a random number of yields, and the
// stop comes after a random number of accepted items, so the scheduler
// (and the race detector) see every interleaving they can.
func TestPoolConservationUnderLoad(t *testing.T) {
	n := *poolSeeds / 4
	if testing.Short() {
		n = 10
	}
	var total totals
	for seed := range n {
		rnd := rand.New(rand.NewPCG(uint64(seed), 0x10ad))
		r := randomRun(rnd)
		stopAt := rnd.IntN(r.submitters*r.perSubmitter + 1)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { total.add(r.spinning(t, uint64(seed), stopAt)) })
	}
	total.check(t)
	goleak.VerifyNone(t)
}

func (r conservationRun) spinning(t *testing.T, seed uint64, stopAt int) shepherd.PoolStats {
	l := newLedger()
	handle := func(ctx context.Context, id int) error {
		rnd := rand.New(rand.NewPCG(seed, uint64(id)))
		for range rnd.IntN(20) {
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
	opts := []shepherd.PoolOption{shepherd.QueueSize(r.queue)}
	if r.stopOnError {
		opts = append(opts, shepherd.StopOnError())
	}
	pool := shepherd.NewPool("conserve", r.workers, handle, opts...)
	if r.withReturns {
		pool.OnUnprocessed(func(id int) { l.mark(l.returned, id) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runPool(ctx, pool)

	stop := make(chan struct{})
	var stopOnce sync.Once
	var accepted sync.Mutex
	count := 0
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
				if err == nil {
					l.mark(l.accepted, id)
					accepted.Lock()
					count++
					if count >= stopAt {
						stopOnce.Do(func() { close(stop) })
					}
					accepted.Unlock()
				} else if errors.Is(err, shepherd.ErrClosed) {
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); stopOnce.Do(func() { close(stop) }) }()
	<-stop
	switch r.how {
	case "stop":
		// A deadline already past, or one that passes while handlers
		// still run: the hand-back path is exercised either way.
		sctx, scancel := context.WithTimeout(context.Background(), time.Duration(seed%3)*time.Microsecond)
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
	l.check(t, pool.Stats(), runErr, r.withReturns)
	return pool.Stats()
}
