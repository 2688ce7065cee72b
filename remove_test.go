package shepherd_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

func names(st shepherd.Node) []string {
	var out []string
	for _, c := range st.Children {
		out = append(out, c.Path[strings.LastIndexByte(c.Path, '/')+1:])
	}
	return out
}

func TestRemoveStopsOneServiceAndDropsIt(t *testing.T) {
	sup := shepherd.NewSupervisor("app")
	var bStopped atomic.Bool
	sup.Add("a", blockUntilDone)
	sup.Add("b", shepherd.ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		bStopped.Store(true)
		return ctx.Err()
	}))
	sup.Add("c", blockUntilDone)
	errc := make(chan error, 1)
	go func() { errc <- sup.Run(context.Background()) }()
	spinUntil(t, func() bool {
		return len(sup.Snapshot().Children) == 3 && sup.Snapshot().Children[2].State == shepherd.StateRunning
	})
	if err := sup.Remove(context.Background(), "b"); err != nil {
		t.Fatalf("Remove(b) = %v; want nil", err)
	}
	if !bStopped.Load() {
		t.Fatal("Remove returned before b's Run returned")
	}
	st := sup.Snapshot()
	if got := names(st); len(got) != 2 || got[0] != "a" || got[1] != "c" {
		t.Fatalf("services after Remove(b) = %v; want [a c]", got)
	}
	for _, c := range st.Children {
		if c.State != shepherd.StateRunning {
			t.Fatalf("%s is %v after Remove(b); want running: only b is stopped", c.Path, c.State)
		}
	}
	if err := sup.Remove(context.Background(), "b"); err == nil {
		t.Fatal("Remove(b) a second time = nil; want an error: no such service")
	}
	// The name is free again.
	if err := sup.StartService("b", blockUntilDone); err != nil {
		t.Fatalf("StartService(b) after Remove = %v; want nil", err)
	}
	sup.Stop(context.Background())
	if err := <-errc; err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
}

func TestRemoveBeforeRun(t *testing.T) {
	sup := shepherd.NewSupervisor("app")
	var ran atomic.Bool
	sup.Add("a", shepherd.ServiceFunc(func(context.Context) error { ran.Store(true); return nil }))
	sup.Add("b", shepherd.ServiceFunc(func(context.Context) error { return nil }))
	if err := sup.Remove(context.Background(), "a"); err != nil {
		t.Fatalf("Remove(a) = %v; want nil", err)
	}
	if err := sup.Run(context.Background()); err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if ran.Load() {
		t.Fatal("a ran after it was removed")
	}
}

func TestRemoveStuckServiceIsReported(t *testing.T) {
	// A removed service that does not return within the budget is
	// reported stuck by Remove, and again by Run, since it still runs.
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(time.Second))
		sup.Add("a", blockUntilDone)
		sup.Add("stuck", shepherd.ServiceFunc(func(context.Context) error { <-release; return nil }))
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(ctx) }()
		synctest.Wait()
		start := time.Now()
		err := sup.Remove(context.Background(), "stuck")
		var se *shepherd.StuckError
		if !errors.As(err, &se) || len(se.Tasks) != 1 || se.Tasks[0].Path != "app/stuck" {
			t.Fatalf("Remove(stuck) = %v; want a *StuckError naming app/stuck", err)
		}
		if took := time.Since(start); took != time.Second {
			t.Fatalf("Remove took %v; want the 1s budget", took)
		}
		if got := names(sup.Snapshot()); len(got) != 1 || got[0] != "a" {
			t.Fatalf("services after Remove = %v; want [a]", got)
		}
		cancel()
		err = <-errc
		if !errors.As(err, &se) || se.Tasks[0].Path != "app/stuck" {
			t.Fatalf("Run() = %v; want the removed stuck service named", err)
		}
		close(release)
	})
}

func TestRemoveDeadlineCapsBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(time.Minute))
		sup.Add("stuck", shepherd.ServiceFunc(func(context.Context) error { <-release; return nil }))
		sup.Add("a", blockUntilDone)
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(context.Background()) }()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		if err := sup.Remove(ctx, "stuck"); !errors.As(err, new(*shepherd.StuckError)) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Remove = %v; want stuck or the deadline", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("Remove took %v; want at most the 2s of its context", took)
		}
		sup.Stop(context.Background())
		if err := <-errc; err != nil && !errors.As(err, new(*shepherd.StuckError)) {
			t.Errorf("Run = %v; want nil, or the stuck report of the service removed", err)
		}
	})
}

func TestRemoveRacesRestart(t *testing.T) {
	// Removal of a service that restarts as fast as it can: once Remove
	// returned, it never runs again.
	for i := range 50 {
		sup := shepherd.NewSupervisor("app", shepherd.MaxRestarts(1<<30, time.Second))
		var runs atomic.Int64
		sup.Add("a", blockUntilDone)
		sup.Add("flaky", shepherd.ServiceFunc(func(context.Context) error {
			runs.Add(1)
			return errBoom
		}), shepherd.Restart(shepherd.Always), shepherd.Backoff{})
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(context.Background()) }()
		spinUntil(t, func() bool { return runs.Load() > int64(i%5) })
		if err := sup.Remove(context.Background(), "flaky"); err != nil && !errors.Is(err, errBoom) {
			t.Fatalf("round %d: Remove = %v; want nil or flaky's failure", i, err)
		}
		n := runs.Load()
		if got := names(sup.Snapshot()); len(got) != 1 {
			t.Fatalf("round %d: services after Remove = %v; want [a]", i, got)
		}
		sup.Stop(context.Background())
		if err := <-errc; err != nil {
			t.Fatalf("round %d: Run() = %v; want nil", i, err)
		}
		if runs.Load() != n {
			t.Fatalf("round %d: flaky ran %d more times after Remove returned", i, runs.Load()-n)
		}
	}
}

func TestRemoveRacesStop(t *testing.T) {
	// Remove and the tree's stop at once: neither waits for the other
	// past the stop, and Remove either removed the service or says the
	// stop took it.
	for i := range 50 {
		sup := shepherd.NewSupervisor("app")
		sup.Add("a", blockUntilDone)
		if err := sup.StartService("b", blockUntilDone); err != nil {
			t.Fatalf("StartService(b) after Remove = %v; want nil", err)
		}
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(context.Background()) }()
		spinUntil(t, func() bool {
			return len(sup.Snapshot().Children) == 2 && sup.Snapshot().Children[1].State == shepherd.StateRunning
		})
		rmc := make(chan error, 1)
		go func() { rmc <- sup.Remove(context.Background(), "b") }()
		sup.Stop(context.Background())
		if err := <-rmc; err != nil && !errors.Is(err, shepherd.ErrClosed) {
			t.Fatalf("round %d: Remove = %v; want nil or ErrClosed", i, err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("round %d: Run() = %v; want nil", i, err)
		}
	}
}
