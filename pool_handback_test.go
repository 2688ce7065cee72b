package shepherd_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

// TestPoolOnUnprocessedFailureHandsBackTheRest: a panic or runtime.Goexit
// in OnUnprocessed for one item is reported, and the items after it are
// still handed back, each once.
func TestPoolOnUnprocessedFailureHandsBackTheRest(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func()
		want error
	}{
		{"panic", func() { panic("cannot take it back") }, nil},
		{"Goexit", runtime.Goexit, shepherd.ErrGoexit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var back collector[int]
			pool := shepherd.NewPool("p", 1, func(ctx context.Context, x int) error { return nil }, shepherd.QueueSize(5)).OnUnprocessed(func(x int) {
				if x == 1 {
					tc.fail()
				}
				back.add(x)
			})
			for i := range 5 {
				if err := pool.Submit(context.Background(), i); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // Run hands the whole queue back
			err := pool.Run(ctx)
			var pe *shepherd.PanicError
			if tc.want == nil && !errors.As(err, &pe) || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Run() = %v; want the failure of OnUnprocessed", err)
			}
			got := back.get()
			slices.Sort(got)
			if !slices.Equal(got, []int{0, 2, 3, 4}) {
				t.Errorf("handed back %v; want [0 2 3 4]: every item but the one whose call failed", got)
			}
			if s := pool.Stats(); s.HandedBack != 5 {
				t.Errorf("Stats() = %+v; want 5 handed back", s)
			}
		})
	}
}

// TestPoolOnUnprocessedPanicWhileWorkersBusy: a stop whose deadline passes
// while the only worker is stuck in a handler hands the queue back by
// itself; a panic in OnUnprocessed for one queued item must not leave the
// items after it queued, to be found only if the worker ever returns.
func TestPoolOnUnprocessedPanicWhileWorkersBusy(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	var back collector[int]
	pool := shepherd.NewPool("p", 1, func(ctx context.Context, x int) error {
		close(started)
		<-release // ignores the stop's cancellation
		return nil
	}, shepherd.QueueSize(4)).OnUnprocessed(func(x int) {
		if x == 1 {
			panic("cannot take it back")
		}
		back.add(x)
	})
	for i := range 4 {
		if err := pool.Submit(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	done := runPool(context.Background(), pool)
	<-started // item 0 is in the handler; 1, 2 and 3 are queued
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := pool.Stop(ctx); err != nil {
		t.Errorf("Stop = %v; want nil", err)
	}
	// Stop returns once the queue is handed back, while the worker still
	// holds item 0.
	got := back.get()
	slices.Sort(got)
	if !slices.Equal(got, []int{2, 3}) {
		t.Errorf("handed back %v once Stop returned; want [2 3]: the items after the one whose call panicked", got)
	}
	close(release)
	var pe *shepherd.PanicError
	if err := <-done; !errors.As(err, &pe) {
		t.Errorf("Run() = %v; want the panic of OnUnprocessed", err)
	}
}
