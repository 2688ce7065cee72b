package shepherd_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/shepherd-go/shepherd"

	"github.com/shepherd-go/shepherd/goroutines"
)

// shrinkIntoFullQueue runs a pool of two workers whose queue of one is
// full (two items in flight, one queued), and has a Group task "config
// reload" shrink it to one worker: the stop signal does not fit, so a
// goroutine carries it. It returns once that goroutine waits to send,
// with that goroutine's stack, and a function that releases the items and
// checks that the pool handled all three and stopped.
func shrinkIntoFullQueue(t *testing.T) (*shepherd.Pool[int], goroutines.Stack, func()) {
	t.Helper()
	g := newGate()
	pool := shepherd.NewPool("reports", 2, g.handle, shepherd.QueueSize(1))
	done := make(chan error, 1)
	go func() { done <- pool.Run(context.Background()) }()
	for i := range 3 {
		if err := pool.Submit(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, func() bool { return g.running.Load() == 2 })

	resizer := shepherd.NewGroup(context.Background())
	resizer.Go("config reload", func(ctx context.Context) error {
		pool.Resize(1)
		return nil
	})
	if err := resizer.Wait(); err != nil {
		t.Fatal(err)
	}
	// Once the goroutine waits to send, it has set whatever labels it
	// sets; the goroutine profile does not say how a goroutine waits, the
	// full dump does.
	eventually(t, func() bool {
		buf := make([]byte, 1<<20)
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "[chan send") && strings.Contains(g, ").shrink.func") {
				return true
			}
		}
		return false
	})
	var carrier goroutines.Stack
	for _, s := range goroutines.All() {
		if hasFrame(s, ").shrink.func") {
			carrier = s
		}
	}
	return pool, carrier, func() {
		t.Helper()
		close(g.release)
		pool.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st := pool.Stats(); st.Workers != 1 || st.Done != 3 || st.Submitted != 3 || st.Queued != 0 || st.InFlight != 0 {
			t.Fatalf("Stats() = %+v; want 1 worker, 3 submitted and done", st)
		}
	}
}

// TestResizeCarrierIsThePools checks whose the goroutine is that carries a
// shrink's stop signal into a full queue: the pool's, not that of the task
// that called Resize, which returns while the goroutine still waits.
// Labelled with the caller's path, it would be a leftover of that task on
// the debug page, in the sampler's counts and in the look for leftovers of
// a stop.
func TestResizeCarrierIsThePools(t *testing.T) {
	_, carrier, finish := shrinkIntoFullQueue(t)
	finish()
	if carrier.Path != "reports" {
		t.Fatalf("the goroutine carrying the stop signal is labelled %q; want the pool's path %q", carrier.Path, "reports")
	}
}

// hasFrame reports whether s has a frame whose function contains fn.
func hasFrame(s goroutines.Stack, fn string) bool {
	for _, f := range s.Frames {
		if strings.Contains(f.Function, fn) {
			return true
		}
	}
	return false
}
