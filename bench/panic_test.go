package bench

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/shepherd-go/shepherd"
	"github.com/sourcegraph/conc"
)

// W5: panic recovery. Every task of a batch panics, and the library must
// recover each panic and report it to whoever waits.
//
// Libraries that stop a batch at its first failure (shepherd, pond's
// groups) would skip the tasks not yet started, so every task first waits
// at a gate that opens once all are started; each library, the baseline
// included, pays the same for the gate.
//
// Each task is a closure built before the timed loop (the gate it waits at
// is swapped in per batch), so the allocations per task are each library's
// own.
//
// What each one keeps of a panic differs, and is part of its cost: raw
// keeps nothing, raw-callers keeps the program counters of the stack (what
// shepherd keeps), shepherd a *PanicError per task with those counters,
// conc the first panic with a formatted stack, pond a formatted stack per
// task, ants hands the value to a panic handler (here one that counts).

const panicTasks = 10_000

var errPanic = errors.New("boom")

// gate holds the tasks of a batch until all of them were started.
type gate struct {
	open    chan struct{}
	started atomic.Int64
	n       int64
}

func newGate(n int) *gate { return &gate{open: make(chan struct{}), n: int64(n)} }

// wait blocks the caller until every task reached it. The last one opens
// the gate.
func (g *gate) wait() {
	if g.started.Add(1) == g.n {
		close(g.open)
	}
	<-g.open
}

// panicky waits at the gate and panics.
func panicky(g *gate) {
	g.wait()
	panic(errPanic)
}

type panicker struct {
	name string
	make func(b *testing.B, n int) func()
}

var panickers = []panicker{
	{"raw", func(b *testing.B, n int) func() {
		var (
			gt        *gate
			recovered atomic.Int64
			wg        sync.WaitGroup
		)
		task := func() {
			defer wg.Done()
			defer func() {
				if recover() != nil {
					recovered.Add(1)
				}
			}()
			panicky(gt)
		}
		return func() {
			gt = newGate(n)
			recovered.Store(0)
			for range n {
				wg.Add(1)
				go task()
			}
			wg.Wait()
			if recovered.Load() != int64(n) {
				b.Fatalf("recovered %d panics; want %d", recovered.Load(), n)
			}
		}
	}},
	{"raw-callers", func(b *testing.B, n int) func() {
		var (
			gt        *gate
			recovered atomic.Int64
			wg        sync.WaitGroup
		)
		task := func() {
			defer wg.Done()
			defer func() {
				if recover() != nil {
					var pcs [64]uintptr
					if runtime.Callers(2, pcs[:]) > 0 {
						recovered.Add(1)
					}
				}
			}()
			panicky(gt)
		}
		return func() {
			gt = newGate(n)
			recovered.Store(0)
			for range n {
				wg.Add(1)
				go task()
			}
			wg.Wait()
			if recovered.Load() != int64(n) {
				b.Fatalf("recovered %d panics; want %d", recovered.Load(), n)
			}
		}
	}},
	{"shepherd", func(b *testing.B, n int) func() {
		var gt *gate
		task := func(context.Context) error { panicky(gt); return nil }
		return func() {
			gt = newGate(n)
			grp := shepherd.NewGroup(context.Background())
			for range n {
				grp.Go("panic", task)
			}
			err := grp.Wait()
			var pe *shepherd.PanicError
			if !errors.As(err, &pe) || !errors.Is(err, errPanic) {
				b.Fatalf("Wait() = %v; want a *PanicError", err)
			}
		}
	}},
	{"conc", func(b *testing.B, n int) func() {
		var gt *gate
		task := func() { panicky(gt) }
		return func() {
			gt = newGate(n)
			var wg conc.WaitGroup
			for range n {
				wg.Go(task)
			}
			if r := wg.WaitAndRecover(); r == nil || r.Value != errPanic {
				b.Fatalf("WaitAndRecover() = %v; want the panic", r)
			}
		}
	}},
	{"pond", func(b *testing.B, n int) func() {
		p := pond.NewPool(0)
		b.Cleanup(p.StopAndWait)
		var gt *gate
		task := func() { panicky(gt) }
		return func() {
			gt = newGate(n)
			grp := p.NewGroup()
			for range n {
				grp.Submit(task)
			}
			if err := grp.Wait(); !errors.Is(err, errPanic) {
				b.Fatalf("Wait() = %v; want the panic", err)
			}
		}
	}},
	{"ants", func(b *testing.B, n int) func() {
		var recovered atomic.Int64
		var wg sync.WaitGroup
		p, err := ants.NewPool(0, ants.WithPanicHandler(func(any) { recovered.Add(1) }))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { releaseAnts(b, p) })
		var gt *gate
		task := func() {
			defer wg.Done()
			panicky(gt)
		}
		return func() {
			gt = newGate(n)
			recovered.Store(0)
			wg.Add(n)
			for range n {
				if err := p.Submit(task); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			// The panic handler runs after the task's deferred calls; wait
			// for the last ones.
			for recovered.Load() < int64(n) {
				runtime.Gosched()
			}
		}
	}},
}

func BenchmarkPanicRecovery(b *testing.B) {
	for _, p := range panickers {
		b.Run(p.name, func(b *testing.B) {
			var base func()
			if p.name != "raw" {
				base = panickers[0].make(b, panicTasks)
			}
			perTask(b, panicTasks, p.make(b, panicTasks), base)
		})
	}
}
