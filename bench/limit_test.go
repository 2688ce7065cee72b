package bench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/semaphore"
)

// The slot primitive behind Group's Limit. A Limit must be context-aware:
// a Go blocked on a full group returns when the group's context ends. Both
// candidates are: a buffered channel in a select with ctx.Done(), and
// x/sync/semaphore's Weighted.Acquire(ctx, 1). Each takes a free slot
// without blocking first, and when none is free yields once and tries
// again before it blocks, as Group does. Each op runs limitTasks tiny tasks
// with limitSlots slots, acquiring in the spawning goroutine and releasing
// as each task ends.

const (
	limitTasks = 10_000
	limitSlots = 8
)

func BenchmarkLimitSlot(b *testing.B) {
	ctx := context.Background()
	var sink atomic.Int64
	b.Run("chan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sem := make(chan struct{}, limitSlots)
			var wg sync.WaitGroup
			for range limitTasks {
				if !chanSlot(ctx, sem) {
					b.Fatal("cancelled")
				}
				wg.Add(1)
				go func() {
					sink.Add(1)
					<-sem
					wg.Done()
				}()
			}
			wg.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*limitTasks), "ns/task")
	})
	b.Run("semaphore", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sem := semaphore.NewWeighted(limitSlots)
			var wg sync.WaitGroup
			for range limitTasks {
				if err := semaphoreSlot(ctx, sem); err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					sink.Add(1)
					sem.Release(1)
					wg.Done()
				}()
			}
			wg.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*limitTasks), "ns/task")
	})
}

func chanSlot(ctx context.Context, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	runtime.Gosched()
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	select {
	case sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func semaphoreSlot(ctx context.Context, sem *semaphore.Weighted) error {
	if sem.TryAcquire(1) {
		return nil
	}
	runtime.Gosched()
	if sem.TryAcquire(1) {
		return nil
	}
	return sem.Acquire(ctx, 1)
}
