package bench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/shepherd-go/shepherd"
	"github.com/sourcegraph/conc"
	"golang.org/x/sync/errgroup"
)

// W8: memory. The heap and stack that 100,000 idle tasks, each parked on
// the context of its batch, hold on top of what the program held before:
// (HeapInuse + StackInuse) after minus before, per task, both read after a
// garbage collection.
//
// The runtime keeps the descriptors of exited goroutines for reuse, so a
// warm-up batch runs first: what is left is the tasks' stacks and whatever
// the library allocates per task, which is what differs between them.

const idleTasks = 100_000

// A parker starts n tasks that call park and returns a function that
// releases them and waits until all returned. park returns once release
// was called.
type parker struct {
	name string
	make func(b *testing.B) func(n int, park func(ctx context.Context)) (release func())
}

var parkers = []parker{
	{"raw", func(*testing.B) func(int, func(context.Context)) func() {
		return func(n int, park func(context.Context)) func() {
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					park(ctx)
				}()
			}
			return func() { cancel(); wg.Wait() }
		}
	}},
	{"shepherd", func(b *testing.B) func(int, func(context.Context)) func() {
		return func(n int, park func(context.Context)) func() {
			ctx, cancel := context.WithCancel(context.Background())
			g := shepherd.NewGroup(ctx)
			task := func(ctx context.Context) error { park(ctx); return nil }
			for range n {
				g.Go("idle", task)
			}
			return func() {
				cancel()
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			}
		}
	}},
	{"errgroup", func(b *testing.B) func(int, func(context.Context)) func() {
		return func(n int, park func(context.Context)) func() {
			parent, cancel := context.WithCancel(context.Background())
			g, ctx := errgroup.WithContext(parent)
			task := func() error { park(ctx); return nil }
			for range n {
				g.Go(task)
			}
			return func() {
				cancel()
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			}
		}
	}},
	{"conc", func(*testing.B) func(int, func(context.Context)) func() {
		return func(n int, park func(context.Context)) func() {
			ctx, cancel := context.WithCancel(context.Background())
			var wg conc.WaitGroup
			task := func() { park(ctx) }
			for range n {
				wg.Go(task)
			}
			return func() { cancel(); wg.Wait() }
		}
	}},
	{"pond", func(b *testing.B) func(int, func(context.Context)) func() {
		p := pond.NewPool(0)
		b.Cleanup(p.StopAndWait)
		return func(n int, park func(context.Context)) func() {
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			task := func() { park(ctx); wg.Done() }
			wg.Add(n)
			for range n {
				if err := p.Go(task); err != nil {
					b.Fatal(err)
				}
			}
			return func() { cancel(); wg.Wait() }
		}
	}},
	{"ants", func(b *testing.B) func(int, func(context.Context)) func() {
		// A pool per batch: ants keeps idle workers alive for reuse, and
		// their memory is what is measured.
		return func(n int, park func(context.Context)) func() {
			p, err := ants.NewPool(0)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			task := func() { park(ctx); wg.Done() }
			wg.Add(n)
			for range n {
				if err := p.Submit(task); err != nil {
					b.Fatal(err)
				}
			}
			return func() {
				cancel()
				wg.Wait()
				releaseAnts(b, p)
			}
		}
	}},
}

// inUse returns the heap and stack memory in use after a full collection.
func inUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func BenchmarkIdleMemory(b *testing.B) {
	for _, p := range parkers {
		b.Run(p.name, func(b *testing.B) {
			start := p.make(b)
			var parked atomic.Int64
			park := func(ctx context.Context) {
				parked.Add(1)
				<-ctx.Done()
			}
			batch := func() (bytes int64) {
				parked.Store(0)
				before := inUse()
				release := start(idleTasks, park)
				for parked.Load() < idleTasks {
					runtime.Gosched()
				}
				after := inUse()
				release()
				return int64(after) - int64(before)
			}
			batch() // warm-up, see above
			var total int64
			for b.Loop() {
				total += batch()
			}
			b.ReportMetric(float64(total)/float64(b.N)/idleTasks, "B/task")
		})
	}
}
