package shepherd_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

func TestMapKeepsInputOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		items := make([]int, 100)
		for i := range items {
			items[i] = i
		}
		var running, peak atomic.Int32
		out, err := shepherd.Map(context.Background(), items, 7, func(ctx context.Context, it int) (string, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(time.Duration(rand.IntN(50)) * time.Millisecond)
			return strings.Repeat("x", it), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range out {
			if len(s) != i {
				t.Fatalf("out[%d] has length %d; want %d (results out of order)", i, len(s), i)
			}
		}
		if p := peak.Load(); p > 7 {
			t.Fatalf("peak concurrency %d; want at most 7", p)
		}
	})
}

func TestMapStopsOnFirstFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		items := make([]int, 1000)
		for i := range items {
			items[i] = i
		}
		var calls atomic.Int32
		_, err := shepherd.Map(context.Background(), items, 4, func(ctx context.Context, it int) (int, error) {
			calls.Add(1)
			if it == 10 {
				return 0, errBoom
			}
			time.Sleep(time.Millisecond)
			return it, nil
		})
		if got, want := err.Error(), `task "map[10]": boom`; got != want {
			t.Fatalf("Map() error = %q; want %q", got, want)
		}
		if n := calls.Load(); n > 20 {
			t.Fatalf("fn called %d times after an early failure; want the rest skipped", n)
		}
	})
}

func TestForEachPanicNamesItem(t *testing.T) {
	err := shepherd.ForEach(context.Background(), []string{"a", "b", "c"}, 2, func(ctx context.Context, s string) error {
		if s == "b" {
			panic("bad item")
		}
		return nil
	})
	var pe *shepherd.PanicError
	if !errors.As(err, &pe) || pe.Task != "map[1]" || pe.Value != "bad item" {
		t.Fatalf("ForEach() = %v; want *PanicError{Task: map[1], Value: bad item}", err)
	}
}

func TestForEachParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	err := shepherd.ForEach(ctx, make([]int, 100), 1, func(ctx context.Context, _ int) error {
		if calls.Add(1) == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ForEach() = %v; want context.Canceled since items were skipped", err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("fn called %d times; want 3 (none after the cancel)", n)
	}
}

func TestMapEmpty(t *testing.T) {
	out, err := shepherd.Map(context.Background(), []int(nil), 3, func(context.Context, int) (int, error) { return 0, nil })
	if err != nil || len(out) != 0 {
		t.Fatalf("Map(nil) = %v, %v; want [], nil", out, err)
	}
}
