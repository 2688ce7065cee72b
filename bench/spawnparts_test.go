package bench

import (
	"context"
	"runtime/pprof"
	"sync"
	"testing"

	"github.com/shepherd-go/shepherd/goroutines"
)

// W1p: what W1's shepherd task is made of. Each variant is raw's go
// statement and WaitGroup plus one part of what a Group task does: the
// pprof label it runs with, set as the task starts; a deferred recover; or
// both. shepherd's ratio over raw-labels-recover is its own bookkeeping
// (counting, the context check before starting, failure collection).

var spawnParts = []spawner{
	spawners[0],
	{"raw-labels", func(b *testing.B, n int, add func()) func() {
		var wg sync.WaitGroup
		labels := pprof.WithLabels(context.Background(), pprof.Labels(goroutines.Label, "add"))
		task := func() {
			pprof.SetGoroutineLabels(labels)
			add()
			wg.Done()
		}
		return spawnAll(n, &wg, task)
	}},
	{"raw-recover", func(b *testing.B, n int, add func()) func() {
		var wg sync.WaitGroup
		task := func() {
			defer func() {
				if r := recover(); r != nil {
					b.Error(r)
				}
				wg.Done()
			}()
			add()
		}
		return spawnAll(n, &wg, task)
	}},
	{"raw-labels-recover", func(b *testing.B, n int, add func()) func() {
		var wg sync.WaitGroup
		labels := pprof.WithLabels(context.Background(), pprof.Labels(goroutines.Label, "add"))
		task := func() {
			pprof.SetGoroutineLabels(labels)
			defer func() {
				if r := recover(); r != nil {
					b.Error(r)
				}
				wg.Done()
			}()
			add()
		}
		return spawnAll(n, &wg, task)
	}},
	spawners[1], // shepherd
	spawners[2], // errgroup
}

// spawnAll returns an op that starts n goroutines running task, which
// calls wg.Done, and waits for them.
func spawnAll(n int, wg *sync.WaitGroup, task func()) func() {
	return func() {
		for range n {
			wg.Add(1)
			go task()
		}
		wg.Wait()
	}
}

func BenchmarkSpawnParts(b *testing.B) {
	for _, s := range spawnParts {
		b.Run(s.name, func(b *testing.B) { benchSpawn(b, s, spawnTasks) })
	}
}
