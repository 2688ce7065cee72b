package bench

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// W3: IO-bound. Items that each sleep for a millisecond, on 64 workers. The
// ideal wall time is the number of rounds the workers need times one sleep;
// efficiency is ideal/actual, so 1 means the library added no delay. Like
// the CPU-bound workloads, each batch is paired with a raw batch, and
// raw-ratio is the median ratio of their times.

const (
	ioItems   = 2_000
	ioWorkers = 64
	ioSleep   = time.Millisecond
)

// calibratedSleep is how long time.Sleep(ioSleep) really takes here, as the
// median of many sleeps made the same way the workers make them (64 at a
// time). Timer granularity on a shared machine makes it longer than ioSleep,
// and the ideal time must not blame the libraries for that.
var calibratedSleep = sync.OnceValue(func() time.Duration {
	const rounds = 20
	samples := make([]time.Duration, 0, rounds*ioWorkers)
	var mu sync.Mutex
	for range rounds {
		var wg sync.WaitGroup
		for range ioWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				time.Sleep(ioSleep)
				d := time.Since(start)
				mu.Lock()
				samples = append(samples, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	slices.Sort(samples)
	return samples[len(samples)/2]
})

func BenchmarkIOBound(b *testing.B) {
	rounds := (ioItems + ioWorkers - 1) / ioWorkers
	ideal := time.Duration(rounds) * calibratedSleep()
	for _, f := range allFeeders() {
		b.Run(f.name, func(b *testing.B) {
			sleep := func(int) { time.Sleep(ioSleep) }
			var base func()
			if f.name != "raw" {
				base = feeders[0].make(b, ioItems, ioWorkers, sleep)
			}
			actual := perTask(b, ioItems, f.make(b, ioItems, ioWorkers, sleep), base)
			b.ReportMetric(float64(ideal)/float64(actual), "efficiency")
		})
	}
}
