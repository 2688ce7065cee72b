package bench

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/shepherd-go/shepherd"
	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// W1: spawn-wait. A batch of tiny tasks (an atomic add each), each in a
// goroutine of its own or of the library's choice, and a wait for all.

const spawnTasks = 10_000

// A spawner returns an op that runs n tasks calling add and waits for them.
// Long-lived pools are made once per benchmark, as their users would, and
// released by b.Cleanup; groups are made per batch, as theirs would. Each
// task is a closure built before the timed loop, raw's included, so that
// the allocations per task are each library's own.
type spawner struct {
	name string
	make func(b *testing.B, n int, add func()) func()
}

var spawners = []spawner{
	{"raw", func(b *testing.B, n int, add func()) func() {
		var wg sync.WaitGroup
		task := func() {
			add()
			wg.Done()
		}
		return func() {
			for range n {
				wg.Add(1)
				go task()
			}
			wg.Wait()
		}
	}},
	{"shepherd", func(b *testing.B, n int, add func()) func() {
		task := func(context.Context) error { add(); return nil }
		return func() {
			g := shepherd.NewGroup(context.Background())
			for range n {
				g.Go("add", task)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"errgroup", func(b *testing.B, n int, add func()) func() {
		task := func() error { add(); return nil }
		return func() {
			g, _ := errgroup.WithContext(context.Background())
			for range n {
				g.Go(task)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"conc-waitgroup", func(b *testing.B, n int, add func()) func() {
		return func() {
			var wg conc.WaitGroup
			for range n {
				wg.Go(add)
			}
			wg.Wait()
		}
	}},
	{"conc-pool", func(b *testing.B, n int, add func()) func() {
		return func() {
			p := pool.New()
			for range n {
				p.Go(add)
			}
			p.Wait()
		}
	}},
	{"pond", func(b *testing.B, n int, add func()) func() {
		// pond's lightest path: Go on an unbounded pool, no future per task.
		p := pond.NewPool(0)
		b.Cleanup(p.StopAndWait)
		var wg sync.WaitGroup
		task := func() { add(); wg.Done() }
		return func() {
			wg.Add(n)
			for range n {
				if err := p.Go(task); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		}
	}},
	{"ants", func(b *testing.B, n int, add func()) func() {
		p, err := ants.NewPool(0) // unbounded; workers are reused
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { releaseAnts(b, p) })
		var wg sync.WaitGroup
		task := func() { add(); wg.Done() }
		return func() {
			wg.Add(n)
			for range n {
				if err := p.Submit(task); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		}
	}},
}

// releaser is an ants pool of any kind.
type releaser interface{ ReleaseTimeout(time.Duration) error }

func releaseAnts(b *testing.B, p releaser) {
	if err := p.ReleaseTimeout(10 * time.Second); err != nil {
		b.Errorf("ants ReleaseTimeout: %v", err)
	}
}

// benchSpawn measures s on batches of n tasks, paired with raw unless s is
// raw.
func benchSpawn(b *testing.B, s spawner, n int) {
	var counter, baseCounter atomic.Int64
	op := s.make(b, n, func() { counter.Add(1) })
	var base func()
	if s.name != "raw" {
		base = spawners[0].make(b, n, func() { baseCounter.Add(1) })
	}
	perTask(b, n, op, base)
	if got, want := counter.Load(), int64(b.N)*int64(n); got != want {
		b.Fatalf("%s ran %d tasks; want %d", s.name, got, want)
	}
}

func BenchmarkSpawnWait(b *testing.B) {
	for _, s := range spawners {
		b.Run(s.name, func(b *testing.B) { benchSpawn(b, s, spawnTasks) })
	}
}

// W7: scale. W1 at growing batch sizes: the cost per task should not grow
// with the number of tasks in flight.
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000, 1_000_000} {
		for _, s := range spawners {
			switch s.name {
			case "raw", "shepherd", "errgroup":
			default:
				continue
			}
			b.Run("tasks="+strconv.Itoa(n)+"/"+s.name, func(b *testing.B) { benchSpawn(b, s, n) })
		}
	}
}
