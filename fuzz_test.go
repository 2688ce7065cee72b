package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
	"go.uber.org/multierr"

	"github.com/shepherd-go/shepherd/goroutines"
)

// FuzzPool drives a Pool with a fuzzed sequence of operations (submits,
// tries, submits with a dead context, pauses, Close, Stop with a deadline,
// cancelling Run's context) and handlers whose duration, failure and panic
// the input chooses, then checks that every accepted item was handled or
// handed back exactly once, that no other item was, and that the counters
// add up.
//
//	go test -run '^$' -fuzz FuzzPool
func FuzzPool(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 1, 1})
	f.Add([]byte{0, 7, 0, 13, 5, 2, 0, 0, 4, 9, 5})
	f.Add([]byte{6, 0, 1, 0, 1, 0, 1, 5, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		synctest.Test(t, func(t *testing.T) { fuzzPool(t, ops) })
	})
}

func fuzzPool(t *testing.T, ops []byte) {
	var mu sync.Mutex
	accepted, handled, handedBack := map[int]bool{}, map[int]int{}, map[int]int{}
	behaviour := func(id int) byte {
		if id < len(ops) {
			return ops[id]
		}
		return 0
	}
	pool := shepherd.NewPool("fuzz", 2, func(ctx context.Context, id int) (err error) {
		defer func() {
			if err != nil && err == ctx.Err() {
				// Cut short by the stop: the pool hands the item back,
				// so it was not handled.
				return
			}
			mu.Lock()
			handled[id]++
			mu.Unlock()
		}()
		b := behaviour(id)
		switch b % 5 {
		case 1:
			return errBoom
		case 2:
			panic("fuzzed panic")
		case 3:
			time.Sleep(time.Duration(b) * time.Millisecond) // ignores ctx for a while
			return nil
		}
		select {
		case <-time.After(time.Duration(b) * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, shepherd.QueueSize(3)).OnUnprocessed(func(id int) {
		mu.Lock()
		handedBack[id]++
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- pool.Run(ctx) }()
	dead, deadCancel := context.WithCancel(context.Background())
	deadCancel()
	submit := func(id int, err error) {
		switch {
		case err == nil:
			mu.Lock()
			accepted[id] = true
			mu.Unlock()
		case errors.Is(err, shepherd.ErrClosed), errors.Is(err, shepherd.ErrQueueFull), errors.Is(err, context.Canceled):
		default:
			t.Errorf("item %d: unexpected error %v", id, err)
		}
	}
	var adders sync.WaitGroup
	for id, op := range ops {
		switch op % 8 {
		case 0, 1:
			// A blocking Submit waits for room in a goroutine of its own,
			// so later operations (Close, Stop) can overlap it.
			adders.Go(func() { submit(id, pool.Submit(context.Background(), id)) })
		case 2:
			submit(id, pool.TrySubmit(id))
		case 3:
			submit(id, pool.Submit(dead, id))
		case 4:
			time.Sleep(time.Duration(op) * time.Millisecond)
		case 5:
			pool.Close()
		case 6:
			sctx, scancel := context.WithTimeout(context.Background(), time.Duration(op)*time.Millisecond)
			if err := pool.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Stop = %v; want nil, or the deadline if Run had not started yet (a cut drain hands its items back)", err)
			}
			scancel()
		case 7:
			cancel()
		}
	}
	pool.Close()
	adders.Wait()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for id := range accepted {
		if h, b := handled[id], handedBack[id]; h+b != 1 {
			t.Errorf("accepted item %d handled %d times, handed back %d times; want once in all", id, h, b)
		}
	}
	for id := range handled {
		if !accepted[id] {
			t.Errorf("item %d handled but never accepted", id)
		}
	}
	for id := range handedBack {
		if !accepted[id] {
			t.Errorf("item %d handed back but never accepted", id)
		}
	}
	st := pool.Stats()
	if st.Submitted != int64(len(accepted)) || st.Queued != 0 || st.InFlight != 0 ||
		st.Done+st.Failed+st.Panicked+st.HandedBack != st.Submitted {
		t.Errorf("Stats %+v do not add up for %d accepted items", st, len(accepted))
	}
}

// FuzzSupervisor adds services with fuzzed behaviour and restart policies,
// adds more while it runs, and stops it by a fuzzed mix of context
// cancellation and Stop deadlines; Run must return within its budget with
// every goroutine accounted for (the synctest bubble fails the test if any
// is left), and restarts must stay within MaxRestarts.
//
//	go test -run '^$' -fuzz FuzzSupervisor
func FuzzSupervisor(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{9, 9, 9, 0, 0, 17, 33, 250})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 60 {
			ops = ops[:60]
		}
		synctest.Test(t, func(t *testing.T) { fuzzSupervisor(t, ops) })
	})
}

func fuzzSupervisor(t *testing.T, ops []byte) {
	const budget = 2 * time.Second
	var ev eventLog
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(budget), shepherd.MaxRestarts(3, 5*time.Second),
		shepherd.Strategy(len(ops)%3), shepherd.OnEvent(ev.record))
	release := make(chan struct{})
	var panics atomic.Int32
	service := func(b byte) shepherd.Service {
		d := time.Duration(b) * 10 * time.Millisecond
		return shepherd.ServiceFunc(func(ctx context.Context) error {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				if b%7 == 0 {
					<-release // ignores the stop for good
				}
				return ctx.Err()
			}
			switch b % 4 {
			case 0:
				return nil
			case 1:
				return errBoom
			case 2:
				panics.Add(1)
				panic("fuzzed panic")
			}
			<-ctx.Done()
			return ctx.Err()
		})
	}
	opts := func(b byte) []shepherd.ServiceOption {
		return []shepherd.ServiceOption{shepherd.Restart(shepherd.RestartPolicy(b % 3)),
			shepherd.Backoff{Min: 100 * time.Millisecond, Max: time.Second}}
	}
	half := len(ops) / 2
	for i, b := range ops[:half] {
		sup.Add(fmt.Sprint("s", i), service(b), opts(b)...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	for i, b := range ops[half:] {
		switch b % 5 {
		case 0:
			err := sup.StartService(fmt.Sprint("late", i), service(b), opts(b)...)
			if err != nil && !errors.Is(err, shepherd.ErrClosed) {
				t.Errorf("StartService while running = %v", err)
			}
		case 1:
			cancel()
		case 2:
			sctx, scancel := context.WithTimeout(context.Background(), time.Duration(b)*10*time.Millisecond)
			go func() { sup.Stop(sctx); scancel() }()
		default:
			time.Sleep(time.Duration(b) * 10 * time.Millisecond)
		}
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(budget + time.Second):
		t.Fatalf("Run did not return within the %v budget of the stop", budget)
	}
	// Whatever still runs is named by a stuck report.
	var stuck []string
	for _, e := range multierr.Errors(err) {
		var se *shepherd.StuckError
		if errors.As(e, &se) {
			for _, st := range se.Tasks {
				stuck = append(stuck, st.Path)
			}
		}
	}
	for _, g := range goroutines.All() {
		if !strings.HasPrefix(g.Path, "app") {
			continue
		}
		if !slices.ContainsFunc(stuck, func(p string) bool { return g.Path == p || strings.HasPrefix(g.Path, p+"/") }) {
			t.Errorf("goroutine of %s still runs after Run returned %v, and no stuck report names it", g.Path, err)
		}
	}
	close(release)
	time.Sleep(time.Minute) // let what the budget cut short finish
	// Every panic is reported as a *PanicError, in an event or in Run's error.
	reported := 0
	for _, e := range ev.all() {
		var pe *shepherd.PanicError
		if errors.As(e.Err, &pe) && pe.Value == "fuzzed panic" {
			reported++
		}
	}
	if n := int(panics.Load()); reported < n {
		t.Errorf("%d panics, %d reported as a *PanicError in events; Run() = %v; events:", n, reported, err)
		for _, e := range ev.all() {
			t.Log(e.Time.Format("05.000"), e.State, e.Path, e.Err)
		}
	}
	var restarts []time.Time
	for _, e := range ev.of(shepherd.StateRestarting, "") {
		restarts = append(restarts, e.Time)
	}
	for i := range restarts {
		n := 0
		for _, u := range restarts[i:] {
			if u.Sub(restarts[i]) < 5*time.Second {
				n++
			}
		}
		if n > 3 {
			t.Fatalf("%d restarts within 5s; MaxRestarts is 3", n)
		}
	}
}
