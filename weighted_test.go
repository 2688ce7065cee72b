package shepherd_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// inFlight tracks the weight held by running tasks and the most it ever
// reached.
type inFlight struct {
	now, peak atomic.Int64
}

func (f *inFlight) enter(w int64) {
	n := f.now.Add(w)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (f *inFlight) leave(w int64) { f.now.Add(-w) }

// TestGroupWeightNeverExceedsBudget starts tasks of random weights from
// several goroutines, some blocking and some not, with and without a Limit,
// and checks that the weight of the tasks running at once never went over
// the Budget, and that the tasks ran with as much of it as they could.
func TestGroupWeightNeverExceedsBudget(t *testing.T) {
	const budget = 100
	for _, limit := range []int{0, 3} {
		var f inFlight
		var running, maxRunning atomic.Int64
		opts := []shepherd.GroupOption{shepherd.Budget(budget)}
		if limit > 0 {
			opts = append(opts, shepherd.Limit(limit))
		}
		g := shepherd.NewGroup(context.Background(), opts...)
		var spawners sync.WaitGroup
		var started, tried atomic.Int64
		for s := range 4 {
			spawners.Add(1)
			go func() {
				defer spawners.Done()
				rnd := rand.New(rand.NewPCG(uint64(s), uint64(limit)))
				for range 200 {
					w, spins := rnd.Int64N(budget+1), rnd.IntN(5)
					task := func(context.Context) error {
						f.enter(w)
						r := running.Add(1)
						for m := maxRunning.Load(); r > m && !maxRunning.CompareAndSwap(m, r); m = maxRunning.Load() {
						}
						for range spins {
							runtime.Gosched()
						}
						running.Add(-1)
						f.leave(w)
						return nil
					}
					if rnd.IntN(4) == 0 {
						tried.Add(1)
						if g.TryGoWeighted("item", w, task) {
							started.Add(1)
						}
						continue
					}
					g.GoWeighted("item", w, task)
					started.Add(1)
				}
			}()
		}
		spawners.Wait()
		if err := g.Wait(); err != nil {
			t.Fatalf("Limit %d: Wait() = %v; want nil", limit, err)
		}
		if p := f.peak.Load(); p > budget || p < budget/2 {
			t.Errorf("Limit %d: peak weight in flight = %d; want at most the Budget %d, and near it", limit, p, budget)
		}
		if limit > 0 && maxRunning.Load() > int64(limit) {
			t.Errorf("Limit %d: %d tasks ran at once", limit, maxRunning.Load())
		}
		if started.Load() < 800-tried.Load() {
			t.Errorf("Limit %d: only %d of 800 tasks started, %d of them by TryGoWeighted", limit, started.Load(), tried.Load())
		}
	}
}

// TestGroupWeightedFIFO checks that a heavy task waiting for the budget is
// not overtaken by light tasks that ask after it, though each of them
// would fit: it starts as soon as the tasks before it have given the
// budget back, and the light ones after it.
func TestGroupWeightedFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := shepherd.NewGroup(context.Background(), shepherd.Budget(10))
		var mu sync.Mutex
		var order []string
		release := make(chan struct{})
		hold := func(name string) func(context.Context) error {
			return func(context.Context) error {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				<-release
				return nil
			}
		}
		for range 4 {
			g.GoWeighted("light", 1, hold("first light"))
		}
		heavyAsked := make(chan struct{})
		go func() {
			close(heavyAsked)
			g.GoWeighted("heavy", 10, hold("heavy"))
		}()
		<-heavyAsked
		synctest.Wait() // the heavy task waits for the 4 light ones
		if g.TryGoWeighted("light", 1, hold("try light")) {
			t.Error("TryGoWeighted(1) = true while a heavy task waits; want false: it would overtake it")
		}
		lightDone := make(chan struct{})
		go func() {
			defer close(lightDone)
			for range 3 {
				g.GoWeighted("light", 1, hold("later light"))
			}
		}()
		synctest.Wait()
		mu.Lock()
		got := slices.Clone(order)
		mu.Unlock()
		if len(got) != 4 {
			t.Fatalf("tasks started while the heavy one waits: %q; want only the 4 first light ones", got)
		}
		close(release)
		<-lightDone
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if want := []string{"first light", "first light", "first light", "first light", "heavy", "later light", "later light", "later light"}; !slices.Equal(order, want) {
			t.Errorf("start order = %q; want %q", order, want)
		}
	})
}

// TestGroupWeightedCancelWhileBlocked cancels the parent context while
// GoWeighted waits for the budget: it returns without starting the task,
// and Wait reports the cancellation, so the skipped task is not mistaken
// for done.
func TestGroupWeightedCancelWhileBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		g := shepherd.NewGroup(ctx, shepherd.Budget(4))
		g.GoWeighted("holder", 3, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		var ran atomic.Bool
		returned := make(chan struct{})
		go func() {
			defer close(returned)
			g.GoWeighted("blocked", 2, func(context.Context) error { ran.Store(true); return nil })
		}()
		synctest.Wait()
		select {
		case <-returned:
			t.Fatal("GoWeighted(2) returned with only 1 of 4 free; want it to wait")
		default:
		}
		cancel()
		<-returned
		if err := g.Wait(); !errors.Is(err, context.Canceled) {
			t.Errorf("Wait() = %v; want context.Canceled", err)
		}
		if ran.Load() {
			t.Error("the task blocked on the budget ran after the group's context was done")
		}
	})
}

// TestGroupWeightedFailureBeatsFreedWeight: a task that fails gives its
// weight back only after it has cancelled the group, so a GoWeighted
// waiting for that weight never starts its task. Releasing the weight in a
// wrapper around fn, as a hand-built errgroup+semaphore does, lets it start
// while the failure is being recorded: the slow OnEvent hook here (a
// second of synctest's clock, while the failure is reported) holds that
// gap open.
func TestGroupWeightedFailureBeatsFreedWeight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slowHook := shepherd.OnEvent(func(e shepherd.Event) {
			if e.State == shepherd.StateFailed {
				time.Sleep(time.Second)
			}
		})
		var ran atomic.Bool
		sup := shepherd.NewSupervisor("app", slowHook)
		sup.Add("batch", shepherd.ServiceFunc(func(ctx context.Context) error {
			g := shepherd.NewGroup(ctx, shepherd.Budget(1))
			fail := make(chan struct{})
			g.GoWeighted("first", 1, func(context.Context) error { <-fail; return errBoom })
			returned := make(chan struct{})
			go func() {
				defer close(returned)
				g.GoWeighted("second", 1, func(context.Context) error { ran.Store(true); return nil })
			}()
			synctest.Wait()
			close(fail)
			<-returned
			return g.Wait()
		}))
		if err := sup.Run(context.Background()); !errors.Is(err, errBoom) {
			t.Errorf("Run() = %v; want errBoom", err)
		}
		if ran.Load() {
			t.Error("a task waiting for the weight of a failed task started after the failure")
		}
	})
}

// TestGroupWeightTooHeavy: a task heavier than the whole budget fails at
// once, with an error that names it, the weight and the budget, instead of
// waiting forever; the failure cancels the group like any other.
func TestGroupWeightTooHeavy(t *testing.T) {
	for _, try := range []bool{false, true} {
		g := shepherd.NewGroup(context.Background(), shepherd.Budget(8))
		other := make(chan error, 1)
		g.GoWeighted("other", 1, func(ctx context.Context) error { <-ctx.Done(); other <- context.Cause(ctx); return ctx.Err() })
		fn := func(context.Context) error { t.Error("the too-heavy task ran"); return nil }
		if try {
			if g.TryGoWeighted("huge", 9, fn) {
				t.Error("TryGoWeighted(9) with Budget(8) = true")
			}
		} else {
			g.GoWeighted("huge", 9, fn)
		}
		err := g.Wait()
		want := `task "huge": shepherd: weight 9 is more than the group's whole Budget(8), so the task could never start; raise the Budget or split the task`
		if !errors.Is(err, shepherd.ErrTooHeavy) || err.Error() != want {
			t.Errorf("try=%v: Wait() = %v; want %s", try, err, want)
		}
		if cause := <-other; !errors.Is(cause, shepherd.ErrTooHeavy) {
			t.Errorf("try=%v: the other task's context cause = %v; want the ErrTooHeavy failure", try, cause)
		}
	}
}

// TestGroupWeightedComposesWithLimit: with both a Budget and a Limit, a
// weighted task needs its weight and a slot; light tasks are held to the
// Limit, plain Go tasks take no weight.
func TestGroupWeightedComposesWithLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := shepherd.NewGroup(context.Background(), shepherd.Budget(100), shepherd.Limit(2))
		release := make(chan struct{})
		var running atomic.Int64
		hold := func(context.Context) error { running.Add(1); <-release; return nil }
		g.GoWeighted("a", 1, hold)
		g.Go("plain", hold)
		if g.TryGoWeighted("b", 1, hold) {
			t.Error("TryGoWeighted with both slots of Limit(2) taken = true")
		}
		blocked := make(chan struct{})
		go func() { defer close(blocked); g.GoWeighted("c", 1, hold) }()
		synctest.Wait()
		if n := running.Load(); n != 2 {
			t.Errorf("%d tasks running with Limit(2)", n)
		}
		close(release)
		<-blocked
		if err := g.Wait(); err != nil || running.Load() != 3 {
			t.Errorf("Wait() = %v after %d tasks; want nil after 3", err, running.Load())
		}
	})
}

// TestGroupWeightedMisuse: the misuses that can never be right panic with
// a message that names the group and the fix.
func TestGroupWeightedMisuse(t *testing.T) {
	noop := func(context.Context) error { return nil }
	for _, c := range []struct {
		name string
		do   func()
		want string
	}{
		{"no budget", func() { shepherd.NewGroup(context.Background()).GoWeighted("x", 1, noop) },
			`shepherd: Group.GoWeighted("x") in a top-level group without a Budget; create the group with shepherd.Budget(n), or use Go`},
		{"negative weight", func() { shepherd.NewGroup(context.Background(), shepherd.Budget(4)).TryGoWeighted("x", -1, noop) },
			`shepherd: Group.TryGoWeighted("x", -1) in a top-level group: a weight must not be negative`},
		{"zero budget", func() { shepherd.NewGroup(context.Background(), shepherd.Budget(0)) },
			`shepherd: NewGroup: Budget(0) for a top-level group: a budget must be at least 1; omit Budget to leave the weights unbounded`},
		{"nil fn", func() { shepherd.NewGroup(context.Background(), shepherd.Budget(4)).GoWeighted("x", 1, nil) },
			`shepherd: Group.GoWeighted("x", nil) in a top-level group: fn is nil; pass the function the task runs`},
	} {
		if got := mustPanic(t, c.do); got != c.want {
			t.Errorf("%s: panic %q; want %q", c.name, got, c.want)
		}
		if !strings.HasPrefix(c.want, "shepherd: ") {
			t.Errorf("%s: message does not start with shepherd:", c.name)
		}
	}
}

// TestGroupWeightedUnderMaxTasks: a weighted task counts in the MaxTasks of
// the supervisors above like any task: with a cap of 1 and weight to
// spare, GoWeighted waits for the running task, TryGoWeighted says no, and
// the weight it took meanwhile is given back.
func TestGroupWeightedUnderMaxTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app", shepherd.MaxTasks(1))
		var order []string
		sup.Add("batch", shepherd.ServiceFunc(func(ctx context.Context) error {
			g := shepherd.NewGroup(ctx, shepherd.Budget(10))
			release := make(chan struct{})
			g.GoWeighted("first", 2, func(context.Context) error { <-release; order = append(order, "first"); return nil })
			if g.TryGoWeighted("try", 2, func(context.Context) error { return nil }) {
				t.Error("TryGoWeighted under a full MaxTasks(1) = true")
			}
			waited := make(chan struct{})
			go func() {
				defer close(waited)
				g.GoWeighted("second", 8, func(context.Context) error { order = append(order, "second"); return nil })
			}()
			synctest.Wait()
			close(release)
			<-waited
			return g.Wait()
		}))
		if err := sup.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(order) != 2 || order[0] != "first" || order[1] != "second" {
			t.Errorf("ran %q; want first, then second once first had returned (the try's weight given back)", order)
		}
	})
}
