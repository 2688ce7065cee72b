package bench

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

// W12: services at scale. One supervisor with n trivial services: Add all of
// them, Run until the last is started, Stop. The metrics are the time per
// service of each phase; a supervisor whose work per message is O(1) in the
// number of services keeps each flat from 10³ to 10⁵.

func BenchmarkServices(b *testing.B) {
	for _, n := range benchServiceCounts {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			var add, start, stop time.Duration
			for b.Loop() {
				a, s, st := servicesOnce(b, n)
				add += a
				start += s
				stop += st
			}
			per := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(n) }
			b.ReportMetric(per(add), "add-ns/service")
			b.ReportMetric(per(start), "start-ns/service")
			b.ReportMetric(per(stop), "stop-ns/service")
			b.ReportMetric(per(add+start+stop), "ns/service")
		})
	}
}

var idle = shepherd.ServiceFunc(func(ctx context.Context) error {
	<-ctx.Done()
	return nil
})

// servicesOnce adds n services to a new supervisor, runs it until the last
// one is started, and stops it, timing each phase.
func servicesOnce(b *testing.B, n int) (add, start, stop time.Duration) {
	t0 := time.Now()
	sup := shepherd.NewSupervisor("bench")
	for i := range n - 1 {
		sup.Add("s"+strconv.Itoa(i), idle)
	}
	// The last service signals readiness: services start in order, so
	// once it is ready every service has started.
	started := make(chan struct{})
	sup.Add("last", shepherd.ServiceFunc(func(ctx context.Context) error {
		shepherd.Ready(ctx)
		close(started)
		<-ctx.Done()
		return nil
	}), shepherd.AwaitReady(30*time.Second))
	t1 := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- sup.Run(context.Background()) }()
	<-started
	t2 := time.Now()
	sup.Stop(context.Background())
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	t3 := time.Now()
	return t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)
}

var benchServiceCounts = []int{1_000, 10_000, 100_000}
