package bench

import (
	"runtime"
	"testing"

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
func perTask(b *testing.B, tasks int, op func()) {
	b.Helper()
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		op()
	}
	runtime.ReadMemStats(&after)
	n := float64(b.N) * float64(tasks)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/task")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/task")
}
