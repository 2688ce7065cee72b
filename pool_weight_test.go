package shepherd_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/shepherd-go/shepherd"
)

// sized is an item with a weight, such as an upload with its size.
type sized struct {
	id int
	w  int64
}

func weightOf(it sized) int64 { return it.w }

// TestPoolWeightNeverExceedsMax submits items of random weights from
// several goroutines and checks, from inside the handlers, that the weight
// being handled and the weight Stats reports never exceed MaxWeight; once
// the pool has drained, no weight is held.
func TestPoolWeightNeverExceedsMax(t *testing.T) {
	const maxWeight = 50
	var f inFlight
	var over atomic.Int64
	var pool *shepherd.Pool[sized]
	pool = shepherd.NewPool("uploads", 6, func(ctx context.Context, it sized) error {
		f.enter(it.w)
		if w := pool.Stats().Weight; w > maxWeight {
			over.Store(w)
		}
		for range it.id % 7 {
			runtime.Gosched()
		}
		f.leave(it.w)
		return nil
	}, shepherd.QueueSize(64)).MaxWeight(maxWeight, weightOf)
	done := runPool(context.Background(), pool)
	var wg sync.WaitGroup
	var accepted atomic.Int64
	for s := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(s), 0x3e1))
			for i := range 300 {
				it := sized{id: s*1000 + i, w: rnd.Int64N(maxWeight + 1)}
				var err error
				if i%4 == 0 {
					err = pool.TrySubmit(it)
				} else {
					err = pool.Submit(context.Background(), it)
				}
				switch {
				case err == nil:
					accepted.Add(1)
				case i%4 == 0 && errors.Is(err, shepherd.ErrQueueFull):
				default:
					t.Errorf("submit %+v = %v", it, err)
				}
			}
		}()
	}
	wg.Wait()
	pool.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p := f.peak.Load(); p > maxWeight || p < maxWeight/2 {
		t.Errorf("peak weight handled at once = %d; want at most MaxWeight %d, and near it", p, maxWeight)
	}
	if w := over.Load(); w != 0 {
		t.Errorf("Stats().Weight = %d during the run; want at most %d", w, maxWeight)
	}
	if s := pool.Stats(); s.Weight != 0 || s.Done != accepted.Load() {
		t.Errorf("Stats() = %+v after the drain; want weight 0 and %d done", s, accepted.Load())
	}
}

// TestPoolWeightBlocksAndIsFair: Submit waits while the weight would go over
// MaxWeight, in order of arrival: a light TrySubmit that would fit does not
// overtake a heavy Submit that waits, and the light Submit that comes
// after it is handled after it.
func TestPoolWeightBlocksAndIsFair(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		var order []int
		pool := shepherd.NewPool("uploads", 4, func(ctx context.Context, it sized) error {
			mu.Lock()
			order = append(order, it.id)
			mu.Unlock()
			<-release
			return nil
		}).MaxWeight(10, weightOf)
		ctx := context.Background()
		done := runPool(ctx, pool)
		if err := pool.Submit(ctx, sized{1, 6}); err != nil {
			t.Fatal(err)
		}
		heavy := make(chan error)
		go func() { heavy <- pool.Submit(ctx, sized{2, 10}) }()
		synctest.Wait()
		if s := pool.Stats(); s.Weight != 6 || s.Submitted != 1 {
			t.Fatalf("Stats() = %+v with a heavy Submit waiting; want weight 6, 1 submitted", s)
		}
		err := pool.TrySubmit(sized{3, 1})
		if !errors.Is(err, shepherd.ErrQueueFull) || !strings.Contains(err.Error(), `pool "uploads": weight full (MaxWeight 10)`) {
			t.Errorf("TrySubmit(weight 1) with a heavy Submit waiting = %v; want the weight-full ErrQueueFull", err)
		}
		light := make(chan error)
		go func() { light <- pool.Submit(ctx, sized{4, 1}) }()
		synctest.Wait()
		close(release)
		if err := <-heavy; err != nil {
			t.Fatal(err)
		}
		if err := <-light; err != nil {
			t.Fatal(err)
		}
		pool.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if want := []int{1, 2, 4}; len(order) != 3 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
			t.Errorf("handled in order %v; want %v", order, want)
		}
		if w := pool.Stats().Weight; w != 0 {
			t.Errorf("Stats().Weight = %d after the drain; want 0", w)
		}
	})
}

// TestPoolWeightWaitEnds: a Submit waiting for weight returns ctx.Err()
// when its context is done, and ErrClosed when the pool stops accepting;
// neither takes the item.
func TestPoolWeightWaitEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		pool := shepherd.NewPool("uploads", 1, func(ctx context.Context, it sized) error { <-release; return nil }).MaxWeight(10, weightOf)
		done := runPool(context.Background(), pool)
		if err := pool.Submit(context.Background(), sized{1, 8}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancelled, closed := make(chan error), make(chan error)
		go func() { cancelled <- pool.Submit(ctx, sized{2, 5}) }()
		go func() { closed <- pool.Submit(context.Background(), sized{3, 5}) }()
		synctest.Wait()
		cancel()
		if err := <-cancelled; !errors.Is(err, context.Canceled) {
			t.Errorf("Submit with its ctx cancelled while waiting for weight = %v; want context.Canceled", err)
		}
		pool.Close()
		if err := <-closed; !errors.Is(err, shepherd.ErrClosed) {
			t.Errorf("Submit waiting for weight when the pool closed = %v; want ErrClosed", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if s := pool.Stats(); s.Submitted != 1 || s.Done != 1 || s.Weight != 0 {
			t.Errorf("Stats() = %+v; want only the first item, handled, and no weight held", s)
		}
	})
}

// TestPoolWeightBadItems: an item heavier than MaxWeight, a negative
// weight and a panicking weigh function are the submitter's errors, at once;
// the pool takes none of them and carries on.
func TestPoolWeightBadItems(t *testing.T) {
	pool := shepherd.NewPool("uploads", 1, func(ctx context.Context, it sized) error { return nil }).MaxWeight(10, func(it sized) int64 {
		if it.id == 666 {
			panic("cannot weigh")
		}
		return it.w
	})
	done := runPool(context.Background(), pool)
	for _, submit := range []func(sized) error{
		func(it sized) error { return pool.Submit(context.Background(), it) },
		pool.TrySubmit,
	} {
		err := submit(sized{1, 11})
		want := `shepherd: pool "uploads": an item of weight 11 is more than the pool's whole MaxWeight(10) and could never fit; raise MaxWeight or split the item`
		if !errors.Is(err, shepherd.ErrTooHeavy) || err.Error() != want {
			t.Errorf("submit(weight 11) = %v; want %s", err, want)
		}
		err = submit(sized{2, -1})
		if err == nil || err.Error() != `shepherd: pool "uploads": MaxWeight's weigh returned -1; a weight must not be negative` {
			t.Errorf("submit(weight -1) = %v", err)
		}
		var pe *shepherd.PanicError
		if err := submit(sized{666, 1}); !errors.As(err, &pe) || pe.Value != "cannot weigh" {
			t.Errorf("submit with the weigh function panicking = %v; want a *PanicError", err)
		}
		if err := submit(sized{3, 5}); err != nil {
			t.Errorf("submit(weight 5) = %v; want nil", err)
		}
	}
	pool.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := pool.Stats(); s.Submitted != 2 || s.Done != 2 || s.Weight != 0 {
		t.Errorf("Stats() = %+v; want the 2 good items handled", s)
	}
}

// TestPoolWeightReleasedOnHandBack: items handed back at a stop give their
// weight back, the one cut short in its handler (handed back too) once.
func TestPoolWeightReleasedOnHandBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var back []int
		pool := shepherd.NewPool("uploads", 1, func(ctx context.Context, it sized) error { <-ctx.Done(); return ctx.Err() }).MaxWeight(10, weightOf).OnUnprocessed(func(it sized) { back = append(back, it.id) })
		ctx, cancel := context.WithCancel(context.Background())
		done := runPool(ctx, pool)
		for i := range 3 {
			if err := pool.Submit(ctx, sized{i, 3}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if w := pool.Stats().Weight; w != 9 {
			t.Errorf("Stats().Weight = %d with 3 items of 3; want 9", w)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v; want context.Canceled, its context's", err)
		}
		if s := pool.Stats(); s.Weight != 0 || s.Failed != 0 || s.HandedBack != 3 || s.Interrupted != 1 || len(back) != 3 {
			t.Errorf("Stats() = %+v, handed back %v; want all 3 handed back (the cut one interrupted), and no weight held", s, back)
		}
	})
}

// TestPoolWeightMisuse: weight settings that can never be right panic.
func TestPoolWeightMisuse(t *testing.T) {
	noop := func(ctx context.Context, it sized) error { return nil }
	for _, c := range []struct {
		max  int64
		of   func(sized) int64
		want string
	}{
		{10, nil, `shepherd: pool "p": MaxWeight(nil): pass the function, or leave the call out`},
		{0, weightOf, `shepherd: pool "p": MaxWeight(0) must be from 1 to 1<<62`},
		{1<<62 + 1, weightOf, `shepherd: pool "p": MaxWeight(4611686018427387905) must be from 1 to 1<<62`},
	} {
		if got := mustPanic(t, func() { shepherd.NewPool("p", 1, noop).MaxWeight(c.max, c.of) }); got != c.want {
			t.Errorf("MaxWeight(%d, …) panic %q; want %q", c.max, got, c.want)
		}
	}
}
