package shepherd_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

type itemTimes struct {
	mu    sync.Mutex
	paths []string
	waits []time.Duration
	runs  []time.Duration
}

func (o *itemTimes) ObserveItem(path string, queued, handled time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.paths = append(o.paths, path)
	o.waits = append(o.waits, queued)
	o.runs = append(o.runs, handled)
}

// TestPoolObserveTimesQueueAndHandler: with one worker and a handler that
// takes 3s, the second item waits 3s in the queue, and each handler run is
// timed at 3s, under the pool's path.
func TestPoolObserveTimesQueueAndHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := shepherd.NewPool("reports", 1, func(ctx context.Context, n int) error {
			time.Sleep(3 * time.Second)
			return nil
		})
		obs := &itemTimes{}
		pool.Observe(obs.ObserveItem)
		for i := range 2 {
			if err := pool.TrySubmit(i); err != nil {
				t.Fatal(err)
			}
		}
		pool.Close()
		if err := pool.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{0, 3 * time.Second}
		if len(obs.waits) != 2 || obs.waits[0] != want[0] || obs.waits[1] != want[1] {
			t.Errorf("queue waits = %v; want %v", obs.waits, want)
		}
		for i, d := range obs.runs {
			if d != 3*time.Second || obs.paths[i] != "reports" {
				t.Errorf("item %d: ObserveItem(%q, _, %v); want (\"reports\", _, 3s)", i, obs.paths[i], d)
			}
		}
	})
}

type panickyObserver struct{}

func (panickyObserver) ObserveItem(string, time.Duration, time.Duration) { panic("observer bug") }

// TestPoolObserveHookPanicIsTheItemsPanic: a panic in the observer is
// contained and counted once, as the item's panic; nothing is lost.
func TestPoolObserveHookPanicIsTheItemsPanic(t *testing.T) {
	pool := shepherd.NewPool("reports", 1, func(ctx context.Context, n int) error { return nil })
	pool.Observe(panickyObserver{}.ObserveItem)
	for i := range 3 {
		if err := pool.TrySubmit(i); err != nil {
			t.Fatal(err)
		}
	}
	pool.Close()
	if err := pool.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := pool.Stats(); st.Panicked != 3 || st.Submitted != 3 || st.Done != 0 {
		t.Errorf("Stats() = %+v; want 3 submitted, 3 panicked", st)
	}
	pool2 := shepherd.NewPool("p", 1, func(ctx context.Context, n int) error { return nil })
	pool2.Observe(nil) // detaching when nothing is attached is fine
}

// BenchmarkPoolObserved is BenchmarkPool's shepherd case with an observer
// that does nothing: the cost of the time stamps alone.
func BenchmarkPoolObserved(b *testing.B) {
	for _, observed := range []bool{false, true} {
		name := "plain"
		if observed {
			name = "observed"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pool := shepherd.NewPool("bench", benchWorkers, tiny, shepherd.QueueSize(benchQueue))
				if observed {
					pool.Observe(nopObserver{}.ObserveItem)
				}
				done := make(chan error, 1)
				go func() { done <- pool.Run(context.Background()) }()
				ctx := context.Background()
				for i := range benchItems {
					_ = pool.Submit(ctx, i)
				}
				pool.Close()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type nopObserver struct{}

func (nopObserver) ObserveItem(string, time.Duration, time.Duration) {}

// TestPoolObserveSkipsItemsAcceptedBefore: an item accepted before Observe
// has no time stamp, so it is not timed: the observer is told of the items
// accepted after it only, never of a queue wait of 0 that did not happen.
func TestPoolObserveSkipsItemsAcceptedBefore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := shepherd.NewPool("reports", 1, func(ctx context.Context, n int) error { return nil })
		if err := pool.TrySubmit(1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		obs := &itemTimes{}
		pool.Observe(obs.ObserveItem)
		time.Sleep(time.Second)
		if err := pool.TrySubmit(2); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		pool.Close()
		if err := pool.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(obs.waits) != 1 || obs.waits[0] != time.Second {
			t.Errorf("queue waits = %v; want one, 1s: the item accepted before Observe is not timed", obs.waits)
		}
		if st := pool.Stats(); st.Done != 2 {
			t.Errorf("Stats() = %+v; want 2 done", st)
		}
	})
}
