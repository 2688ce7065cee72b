package shepherd_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/shepherd-go/shepherd"
)

const (
	benchItems   = 100_000
	benchWorkers = 8
	benchQueue   = benchWorkers * shepherd.DefaultQueuePerWorker
)

var errNegative = errors.New("negative")

// tiny is the handler of the benchmarks: as little work as an item can be.
//
//go:noinline
func tiny(ctx context.Context, x int) error {
	if x < 0 {
		return errNegative
	}
	return nil
}

// BenchmarkPool puts 100,000 tiny items through 8 workers, once through a
// raw buffered channel drained by 8 goroutines and a WaitGroup, once
// through a Pool with a queue of the same size. One op is the whole batch,
// start and drain included. The ratio of the two is the pool's overhead;
// on a machine shared with other work, run the pair many times with
// -count 1 and compare neighbouring runs, which see the same load.
func BenchmarkPool(b *testing.B) {
	ctx := context.Background()
	handle := tiny
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ch := make(chan int, benchQueue)
			var wg sync.WaitGroup
			for range benchWorkers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for x := range ch {
						_ = handle(ctx, x)
					}
				}()
			}
			for i := range benchItems {
				ch <- i
			}
			close(ch)
			wg.Wait()
		}
	})
	b.Run("shepherd", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := shepherd.NewPool("bench", benchWorkers, handle, shepherd.QueueSize(benchQueue))
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			for i := range benchItems {
				if err := p.Submit(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
			p.Close()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPoolSubmit measures one item's trip through a running pool:
// Submit, dequeue, handler call. It reports 0 allocs/op.
func BenchmarkPoolSubmit(b *testing.B) {
	ctx := context.Background()
	p := shepherd.NewPool("bench", benchWorkers, tiny)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Submit(ctx, i); err != nil {
			b.Fatal(err)
		}
	}
	p.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPoolSubmitParallel submits from GOMAXPROCS goroutines at once.
func BenchmarkPoolSubmitParallel(b *testing.B) {
	ctx := context.Background()
	p := shepherd.NewPool("bench", benchWorkers, tiny)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := p.Submit(ctx, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	p.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRawSubmit is BenchmarkPoolSubmit's baseline: a send on a
// buffered channel read by 8 goroutines.
func BenchmarkRawSubmit(b *testing.B) {
	ctx := context.Background()
	ch := make(chan int, benchQueue)
	var wg sync.WaitGroup
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range ch {
				_ = tiny(ctx, x)
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch <- i
	}
	close(ch)
	wg.Wait()
}
