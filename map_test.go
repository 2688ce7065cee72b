package shepherd_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
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

// A Goexit inside an item (t.FailNow in a test helper, say) is that item's
// failure, named like its errors and panics, not the worker's.
func TestForEachGoexitNamesItem(t *testing.T) {
	err := shepherd.ForEach(context.Background(), []string{"a", "b", "c"}, 1, func(ctx context.Context, s string) error {
		if s == "b" {
			runtime.Goexit()
		}
		return nil
	})
	if !errors.Is(err, shepherd.ErrGoexit) {
		t.Fatalf("ForEach() = %v; want it to wrap ErrGoexit", err)
	}
	var te *shepherd.TaskError
	if !errors.As(err, &te) || te.Path != "map[1]" {
		t.Fatalf("ForEach() = %v; want a *TaskError for map[1]", err)
	}
}

// An item whose call returns an error has no result: Map leaves its slot
// at the zero value, whatever fn returned beside the error.
func TestMapZeroesFailedItem(t *testing.T) {
	out, err := shepherd.Map(context.Background(), []int{1, 2, 3}, 1, func(ctx context.Context, it int) (string, error) {
		if it == 2 {
			return "partial", errBoom
		}
		return "ok", nil
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Map() error = %v; want it to wrap %v", err, errBoom)
	}
	if len(out) != 3 || out[0] != "ok" || out[1] != "" || out[2] != "" {
		t.Fatalf("Map() = %q; want [\"ok\" \"\" \"\"] (the failed item zeroed, the skipped one never run)", out)
	}
}

func TestMapForEachNilContextPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func()
		want string
	}{
		{"Map", func() {
			_, _ = shepherd.Map(nilCtx, []int{1}, 1, func(context.Context, int) (int, error) { return 0, nil })
		}, "shepherd: Map(nil ctx): pass context.Background() or the caller's context"},
		{"ForEach", func() { _ = shepherd.ForEach(nilCtx, []int{1}, 1, func(context.Context, int) error { return nil }) },
			"shepherd: ForEach(nil ctx): pass context.Background() or the caller's context"},
	} {
		got := func() (msg any) {
			defer func() { msg = recover() }()
			tc.call()
			return nil
		}()
		if got != tc.want {
			t.Errorf("%s(nil, ...) panicked with %v; want %q", tc.name, got, tc.want)
		}
	}
}

// A panic in an item is that item's failure, and its stack starts at the
// call that panicked, not in shepherd's recovery.
func TestForEachPanicStackStartsAtItem(t *testing.T) {
	err := shepherd.ForEach(context.Background(), []int{0, 1, 2}, 2, func(ctx context.Context, it int) error {
		if it == 2 {
			panicInItem()
		}
		return nil
	})
	var pe *shepherd.PanicError
	if !errors.As(err, &pe) || pe.Task != "map[2]" {
		t.Fatalf("ForEach() = %v; want a *PanicError for map[2]", err)
	}
	if first, _, _ := strings.Cut(pe.Stack(), "\n"); !strings.HasSuffix(first, ".panicInItem") {
		t.Fatalf("PanicError.Stack() starts with %q; want panicInItem", first)
	}
}

func panicInItem() { panic("item") }
