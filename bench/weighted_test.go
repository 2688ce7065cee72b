package bench

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shepherd-go/shepherd"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// Weighted bounded concurrency: tasks of weights 1 to 64 under a budget of
// 256, so that from 4 to 256 run at once. The baseline is what Go
// engineers build by hand: errgroup with semaphore.Weighted, acquiring
// before g.Go and releasing when the task returns; for a pool, a channel of
// weightedQueue slots read by weightedWorkers goroutines, with the weight
// acquired before the send and released after the handler. The
// hand-built version is the sub-benchmark "raw", and each shepherd op is
// paired with a run of it (raw-ratio).

const (
	weightedTasks   = 10_000
	weightedBudget  = 256
	weightedMax     = 64
	weightedWorkers = 8
	weightedQueue   = 16 * weightedWorkers // a Pool's default queue
)

// weights are the tasks' weights, the same for every op.
var weights = func() []int64 {
	rnd := rand.New(rand.NewPCG(1, 2))
	ws := make([]int64, weightedTasks)
	for i := range ws {
		ws[i] = 1 + rnd.Int64N(weightedMax)
	}
	return ws
}()

var weightedSink atomic.Int64

func weightedWork(w int64) { weightedSink.Add(w) }

// handBuiltGroup is errgroup + semaphore.Weighted written by hand.
func handBuiltGroup(b *testing.B) func() {
	return func() {
		ctx := context.Background()
		sem := semaphore.NewWeighted(weightedBudget)
		g, gctx := errgroup.WithContext(ctx)
		for _, w := range weights {
			if err := sem.Acquire(gctx, w); err != nil {
				break // the errgroup failed: its error is in Wait
			}
			g.Go(func() error {
				defer sem.Release(w)
				weightedWork(w)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}

// handBuiltPool is a channel and workers with semaphore.Weighted.
func handBuiltPool(b *testing.B) func() {
	return func() {
		ctx := context.Background()
		sem := semaphore.NewWeighted(weightedBudget)
		ch := make(chan int64, weightedQueue)
		var wg sync.WaitGroup
		for range weightedWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for w := range ch {
					weightedWork(w)
					sem.Release(w)
				}
			}()
		}
		for _, w := range weights {
			if err := sem.Acquire(ctx, w); err != nil {
				b.Fatal(err)
			}
			ch <- w
		}
		close(ch)
		wg.Wait()
	}
}

func BenchmarkWeightedGroup(b *testing.B) {
	base := handBuiltGroup(b)
	b.Run("raw", func(b *testing.B) { perTask(b, weightedTasks, base, nil) })
	b.Run("shepherd", func(b *testing.B) {
		perTask(b, weightedTasks, func() {
			g := shepherd.NewGroup(context.Background(), shepherd.Budget(weightedBudget))
			for _, w := range weights {
				g.GoWeighted("upload", w, func(context.Context) error { weightedWork(w); return nil })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}, base)
	})
}

func BenchmarkWeightedPool(b *testing.B) {
	base := handBuiltPool(b)
	b.Run("raw", func(b *testing.B) { perTask(b, weightedTasks, base, nil) })
	b.Run("shepherd", func(b *testing.B) {
		handle := func(_ context.Context, w int64) error { weightedWork(w); return nil }
		weight := func(w int64) int64 { return w }
		perTask(b, weightedTasks, func() {
			ctx := context.Background()
			p := shepherd.NewPool("uploads", weightedWorkers, handle).MaxWeight(weightedBudget, weight)
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			for _, w := range weights {
				if err := p.Submit(ctx, w); err != nil {
					b.Fatal(err)
				}
			}
			p.Close()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}, base)
	})
}

// BenchmarkWeightedAccounting is the choice of the weighted semaphore
// behind Budget and MaxWeight: x/sync's semaphore.Weighted against
// fifoWeighted, a hand-written one of the same contract (FIFO,
// context-aware) that keeps its waiters in a slice instead of a list (the
// sub-benchmark "raw"). Each op is the hand-built group above on the one
// or the other.
func BenchmarkWeightedAccounting(b *testing.B) {
	run := func(acquire func(context.Context, int64) error, release func(int64)) {
		g, gctx := errgroup.WithContext(context.Background())
		for _, w := range weights {
			if err := acquire(gctx, w); err != nil {
				break
			}
			g.Go(func() error {
				defer release(w)
				weightedWork(w)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	hand := func() {
		s := &fifoWeighted{size: weightedBudget}
		run(s.Acquire, s.Release)
	}
	b.Run("raw", func(b *testing.B) { perTask(b, weightedTasks, hand, nil) })
	b.Run("semaphore", func(b *testing.B) {
		perTask(b, weightedTasks, func() {
			s := semaphore.NewWeighted(weightedBudget)
			run(s.Acquire, s.Release)
		}, hand)
	})
}

// fifoWeighted is a weighted semaphore written by hand: a mutex, the
// weight in use, and a FIFO slice of waiters, each woken by closing its
// channel.
type fifoWeighted struct {
	mu      sync.Mutex
	size    int64
	cur     int64
	waiters []fifoWaiter
}

type fifoWaiter struct {
	n     int64
	ready chan struct{}
}

func (s *fifoWeighted) Acquire(ctx context.Context, n int64) error {
	s.mu.Lock()
	if s.size-s.cur >= n && len(s.waiters) == 0 {
		s.cur += n
		s.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	s.waiters = append(s.waiters, fifoWaiter{n, ready})
	s.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-ready: // granted as ctx ended: give it back
		s.cur -= n
	default:
		for i, w := range s.waiters {
			if w.ready == ready {
				s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
				break
			}
		}
	}
	s.notify()
	return ctx.Err()
}

func (s *fifoWeighted) Release(n int64) {
	s.mu.Lock()
	s.cur -= n
	s.notify()
	s.mu.Unlock()
}

// notify wakes the waiters at the front that now fit, in order.
func (s *fifoWeighted) notify() {
	for len(s.waiters) > 0 {
		w := s.waiters[0]
		if s.size-s.cur < w.n {
			return
		}
		s.cur += w.n
		s.waiters = s.waiters[1:]
		close(w.ready)
	}
}
