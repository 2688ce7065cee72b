package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shepherd-go/shepherd"
	"golang.org/x/sync/errgroup"
)

// W2c: a goroutine per item, at most limitSlots at once. raw is a
// WaitGroup with a buffered channel as the semaphore, taken before each go
// statement and given back as the task ends: the mechanism of a Group with
// Limit and of errgroup with SetLimit, the peer. Every task is one closure
// built before the timed loop, so allocations per task are each library's
// own.

const limitItems = 10_000

type limiter struct {
	name string
	make func(b *testing.B, n, slots int, add func()) func()
}

var limiters = []limiter{
	{"raw", func(b *testing.B, n, slots int, add func()) func() {
		sem := make(chan struct{}, slots)
		var wg sync.WaitGroup
		task := func() {
			add()
			<-sem
			wg.Done()
		}
		return func() {
			for range n {
				sem <- struct{}{}
				wg.Add(1)
				go task()
			}
			wg.Wait()
		}
	}},
	{"shepherd", func(b *testing.B, n, slots int, add func()) func() {
		task := func(context.Context) error { add(); return nil }
		return func() {
			g := shepherd.NewGroup(context.Background(), shepherd.Limit(slots))
			for range n {
				g.Go("item", task)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"errgroup", func(b *testing.B, n, slots int, add func()) func() {
		task := func() error { add(); return nil }
		return func() {
			g, _ := errgroup.WithContext(context.Background())
			g.SetLimit(slots)
			for range n {
				g.Go(task)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}},
}

func BenchmarkLimitedGroup(b *testing.B) {
	for _, l := range limiters {
		b.Run(l.name, func(b *testing.B) {
			var count, baseCount atomic.Int64
			op := l.make(b, limitItems, limitSlots, func() { count.Add(1) })
			var base func()
			if l.name != "raw" {
				base = limiters[0].make(b, limitItems, limitSlots, func() { baseCount.Add(1) })
			}
			perTask(b, limitItems, op, base)
			if got, want := count.Load(), int64(b.N)*limitItems; got != want {
				b.Fatalf("%s ran %d tasks; want %d", l.name, got, want)
			}
		})
	}
}
