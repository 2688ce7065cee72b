package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shepherd-go/shepherd"
	"github.com/sourcegraph/conc/iter"
)

// W2b: a slice of tiny items on a fixed number of workers that take the
// next index from a shared atomic counter. That is what ForEach and Map do,
// and what conc's iter does, so the baseline is the same loop written by
// hand: raw for ForEach, raw-map (which also stores each result) for Map.

const (
	eachItems   = 100_000
	eachWorkers = 8
)

// An indexer returns an op that calls handle for every item of items on
// workers goroutines and waits for them.
type indexer struct {
	name, base string // base: the raw indexer it is paired with
	make       func(b *testing.B, items []int, workers int, handle func(int) int) func()
}

// rawIndex runs workers goroutines that take indexes from an atomic
// counter, calling visit for each, and waits for them.
func rawIndex(n, workers int, visit func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				visit(i)
			}
		}()
	}
	wg.Wait()
}

var indexers = []indexer{
	{"raw", "", func(b *testing.B, items []int, workers int, handle func(int) int) func() {
		visit := func(i int) { handle(items[i]) }
		return func() { rawIndex(len(items), workers, visit) }
	}},
	{"raw-ctx", "raw", func(b *testing.B, items []int, workers int, handle func(int) int) func() {
		// raw that also stops taking items once ctx is done, checking
		// ctx.Err() before each item as ForEach does: an extra, to show
		// what that check costs on items this small.
		ctx := context.Background()
		ctx, cancel := context.WithCancel(ctx)
		b.Cleanup(cancel)
		n := len(items)
		visit := func(i int) { handle(items[i]) }
		return func() {
			var next atomic.Int64
			var wg sync.WaitGroup
			wg.Add(workers)
			for range workers {
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1) - 1)
						if i >= n || ctx.Err() != nil {
							return
						}
						visit(i)
					}
				}()
			}
			wg.Wait()
		}
	}},
	{"shepherd-foreach", "raw", func(b *testing.B, items []int, workers int, handle func(int) int) func() {
		fn := func(_ context.Context, it int) error { handle(it); return nil }
		return func() {
			if err := shepherd.ForEach(context.Background(), items, workers, fn); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"conc-iter", "raw", func(b *testing.B, items []int, workers int, handle func(int) int) func() {
		it := iter.Iterator[int]{MaxGoroutines: workers}
		fn := func(p *int) { handle(*p) }
		return func() { it.ForEach(items, fn) }
	}},
	{"raw-map", "", func(b *testing.B, items []int, workers int, handle func(int) int) func() {
		var out []int
		visit := func(i int) { out[i] = handle(items[i]) }
		return func() {
			out = make([]int, len(items))
			rawIndex(len(items), workers, visit)
		}
	}},
	{"shepherd-map", "raw-map", func(b *testing.B, items []int, workers int, handle func(int) int) func() {
		fn := func(_ context.Context, it int) (int, error) { return handle(it), nil }
		return func() {
			if _, err := shepherd.Map(context.Background(), items, workers, fn); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"conc-iter-map", "raw-map", func(b *testing.B, items []int, workers int, handle func(int) int) func() {
		m := iter.Mapper[int, int]{MaxGoroutines: workers}
		fn := func(p *int) int { return handle(*p) }
		return func() { m.Map(items, fn) }
	}},
}

func indexerNamed(name string) indexer {
	for _, x := range indexers {
		if x.name == name {
			return x
		}
	}
	panic("no indexer " + name)
}

func BenchmarkForEach(b *testing.B) {
	items := make([]int, eachItems)
	for i := range items {
		items[i] = i
	}
	for _, x := range indexers {
		b.Run(x.name, func(b *testing.B) {
			var sum, baseSum atomic.Int64
			op := x.make(b, items, eachWorkers, func(it int) int { sum.Add(int64(it)); return it })
			var base func()
			if x.base != "" {
				base = indexerNamed(x.base).make(b, items, eachWorkers, func(it int) int { baseSum.Add(int64(it)); return it })
			}
			perTask(b, eachItems, op, base)
			if got, want := sum.Load(), int64(b.N)*int64(eachItems)*(eachItems-1)/2; got != want {
				b.Fatalf("%s: sum of items = %d; want %d", x.name, got, want)
			}
		})
	}
}
