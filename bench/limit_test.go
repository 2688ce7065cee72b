package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/semaphore"
)

// The slot primitive behind Group's Limit. A Limit must be context-aware:
// a Go blocked on a full group returns when the group's context ends. Both
// candidates are: a buffered channel in a select with ctx.Done(), and
// x/sync/semaphore's Weighted.Acquire(ctx, 1). Each op runs limitTasks
// tiny tasks with limitSlots slots, acquiring in the spawning goroutine and
// releasing as each task ends, as Group does.

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
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
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
				if err := sem.Acquire(ctx, 1); err != nil {
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
