package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/shepherd-go/shepherd"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// W2 (bounded pool) and W3 (IO-bound) hand a batch of items to a fixed
// number of workers. Each library gets its idiom for it: a channel and N
// goroutines, errgroup.SetLimit, a bounded pool, a Group with Limit, or
// ForEach over a slice.
//
// raw, the baseline every library is paired with, is N goroutines reading
// a channel buffered like the queue of a shepherd Pool made without
// QueueSize: 16 items per worker (queuePerWorker), 128 for
// W2's 8 workers. raw-unbuffered, the same on an unbuffered channel, is an
// extra for reference only: an unbuffered hand-off costs several times a
// buffered one, so a ratio against it says little about a library.
//
// The functions the libraries run per item are built before the timed loop,
// for every library alike, so that allocations per item count the
// library's own and not the benchmark's closures.

const (
	poolItems   = 100_000
	poolWorkers = 8
)

// A feeder returns an op that hands the items 0..n-1 to handle on workers
// goroutines and waits until every item was handled. Its work before
// returning the op is not timed.
type feeder struct {
	name string
	make func(b *testing.B, n, workers int, handle func(int)) func()
}

// rawFeeder is raw with a channel of the given capacity per worker.
func rawFeeder(name string, perWorker int) feeder {
	return feeder{name, func(b *testing.B, n, workers int, handle func(int)) func() {
		return func() {
			ch := make(chan int, perWorker*workers)
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for it := range ch {
						handle(it)
					}
				}()
			}
			for i := range n {
				ch <- i
			}
			close(ch)
			wg.Wait()
		}
	}}
}

// prebuilt returns the function mk makes for each item 0..n-1, built once
// outside the timed op.
func prebuilt[F any](n int, mk func(i int) F) []F {
	fns := make([]F, n)
	for i := range fns {
		fns[i] = mk(i)
	}
	return fns
}

// queuePerWorker is the queue a shepherd Pool has per worker without
// QueueSize.
const queuePerWorker = 16

var feeders = []feeder{
	rawFeeder("raw", queuePerWorker), // feeders[0]: every other is paired with it
	rawFeeder("raw-unbuffered", 0),
	{"shepherd-group", func(b *testing.B, n, workers int, handle func(int)) func() {
		fns := prebuilt(n, func(i int) func(context.Context) error {
			return func(context.Context) error { handle(i); return nil }
		})
		return func() {
			g := shepherd.NewGroup(context.Background(), shepherd.Limit(workers))
			for _, fn := range fns {
				g.Go("item", fn)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"shepherd-foreach", func(b *testing.B, n, workers int, handle func(int)) func() {
		items := make([]int, n)
		for i := range items {
			items[i] = i
		}
		fn := func(_ context.Context, it int) error { handle(it); return nil }
		return func() {
			if err := shepherd.ForEach(context.Background(), items, workers, fn); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"errgroup", func(b *testing.B, n, workers int, handle func(int)) func() {
		fns := prebuilt(n, func(i int) func() error { return func() error { handle(i); return nil } })
		return func() {
			g, _ := errgroup.WithContext(context.Background())
			g.SetLimit(workers)
			for _, fn := range fns {
				g.Go(fn)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"conc", func(b *testing.B, n, workers int, handle func(int)) func() {
		fns := prebuilt(n, func(i int) func() { return func() { handle(i) } })
		return func() {
			p := pool.New().WithMaxGoroutines(workers)
			for _, fn := range fns {
				p.Go(fn)
			}
			p.Wait()
		}
	}},
	{"ants", func(b *testing.B, n, workers int, handle func(int)) func() {
		// ants' typed pool: one function for every item, no closure each.
		var wg sync.WaitGroup
		p, err := ants.NewPoolWithFuncGeneric(workers, func(it int) { handle(it); wg.Done() })
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { releaseAnts(b, p) })
		return func() {
			wg.Add(n)
			for i := range n {
				if err := p.Invoke(i); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		}
	}},
	{"pond", func(b *testing.B, n, workers int, handle func(int)) func() {
		p := pond.NewPool(workers)
		b.Cleanup(p.StopAndWait)
		var wg sync.WaitGroup
		fns := prebuilt(n, func(i int) func() { return func() { handle(i); wg.Done() } })
		return func() {
			wg.Add(n)
			for _, fn := range fns {
				if err := p.Go(fn); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		}
	}},
}

func BenchmarkBoundedPool(b *testing.B) {
	for _, f := range allFeeders() {
		b.Run(f.name, func(b *testing.B) {
			var sum, baseSum atomic.Int64
			op := f.make(b, poolItems, poolWorkers, func(it int) { sum.Add(int64(it)) })
			var base func()
			if f.name != "raw" {
				base = feeders[0].make(b, poolItems, poolWorkers, func(it int) { baseSum.Add(int64(it)) })
			}
			perTask(b, poolItems, op, base)
			if got, want := sum.Load(), int64(b.N)*int64(poolItems)*(poolItems-1)/2; got != want {
				b.Fatalf("%s: sum of items = %d; want %d", f.name, got, want)
			}
		})
	}
}

// allFeeders is feeders plus those of pool_shepherd_test.go when it is
// built.
func allFeeders() []feeder {
	return append(feeders[:len(feeders):len(feeders)], extraFeeders...)
}

// extraFeeders holds feeders that exist only under a build tag.
var extraFeeders []feeder
