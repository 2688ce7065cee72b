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

const (
	poolItems   = 100_000
	poolWorkers = 8
)

// A feeder returns an op that hands the items 0..n-1 to handle on workers
// goroutines and waits until every item was handled.
type feeder struct {
	name string
	make func(b *testing.B, n, workers int, handle func(int)) func()
}

var feeders = []feeder{
	{"raw", func(b *testing.B, n, workers int, handle func(int)) func() {
		return func() {
			ch := make(chan int)
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
	}},
	{"shepherd-group", func(b *testing.B, n, workers int, handle func(int)) func() {
		return func() {
			g := shepherd.NewGroup(context.Background(), shepherd.Limit(workers))
			for i := range n {
				g.Go("item", func(context.Context) error { handle(i); return nil })
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
		return func() {
			g, _ := errgroup.WithContext(context.Background())
			g.SetLimit(workers)
			for i := range n {
				g.Go(func() error { handle(i); return nil })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"conc", func(b *testing.B, n, workers int, handle func(int)) func() {
		return func() {
			p := pool.New().WithMaxGoroutines(workers)
			for i := range n {
				p.Go(func() { handle(i) })
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
		return func() {
			wg.Add(n)
			for i := range n {
				if err := p.Go(func() { handle(i); wg.Done() }); err != nil {
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
