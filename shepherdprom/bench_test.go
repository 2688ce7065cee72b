package shepherdprom_test

import (
	"context"
	"testing"

	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/shepherdprom"
)

//go:noinline
func tiny(ctx context.Context, x int) error { return nil }

// BenchmarkPoolCollector puts 100,000 tiny items through a pool of 8
// workers, without a collector and with one attached by Observe: the cost
// of the two histograms per item.
func BenchmarkPoolCollector(b *testing.B) {
	for _, name := range []string{"plain", "collector"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			sup := shepherd.NewSupervisor("bench")
			c := shepherdprom.New(sup)
			for b.Loop() {
				pool := shepherd.NewPool("bench", 8, tiny, shepherd.QueueSize(8*16))
				if name == "collector" {
					pool.Observe(c.ObserveItem)
				}
				done := make(chan error, 1)
				go func() { done <- pool.Run(context.Background()) }()
				ctx := context.Background()
				for i := range 100_000 {
					_ = pool.Submit(ctx, i)
				}
				pool.Close()
				<-done
			}
		})
	}
}
