package bench

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain checks that no benchmark leaves a goroutine behind: every pool
// and group a benchmark creates must be stopped before it returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// ants starts a default pool, with a purge and a ticker goroutine,
		// when the package is imported; nothing in the package stops them.
		// They are ants' own and not a leak of any benchmark.
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
	)
}

// perTask runs op in the benchmark loop, where each op handles tasks tasks,
// and reports the cost per task: ns/task and allocs/task. Whole-op figures
// (ns/op, allocs/op) are for a batch and depend on its size.
//
// When base is not nil (it is raw's op for the same batch), every op is
// paired with a run of base right before or after it, alternately, and the
// median of the ratios op/base is reported as raw-ratio. On a shared machine
// a slow spell hits both halves of a pair alike, so this ratio is far
// steadier than the ratio of two medians taken seconds apart. The time of
// base and the bookkeeping are left out of ns/task and allocs/task, and of
// the time per op perTask returns; ns/op includes them.
func perTask(b *testing.B, tasks int, op, base func()) (perOp time.Duration) {
	b.Helper()
	b.ReportAllocs()
	var (
		ms      runtime.MemStats
		elapsed time.Duration
		mallocs uint64
		ratios  []float64
	)
	timed := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	for b.Loop() {
		var baseTime time.Duration
		if base != nil && len(ratios)%2 == 1 {
			baseTime = timed(base)
		}
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		d := timed(op)
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - before
		elapsed += d
		if base != nil {
			if len(ratios)%2 == 0 {
				baseTime = timed(base)
			}
			ratios = append(ratios, float64(d)/float64(baseTime))
		}
	}
	n := float64(b.N) * float64(tasks)
	b.ReportMetric(float64(elapsed.Nanoseconds())/n, "ns/task")
	b.ReportMetric(float64(mallocs)/n, "allocs/task")
	if base != nil {
		b.ReportMetric(median(ratios), "raw-ratio")
	}
	return elapsed / time.Duration(b.N)
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}
