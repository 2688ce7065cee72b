package shepherd_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"

	"github.com/shepherd-go/shepherd/goroutines"
)

// TestPoolStopsAfterTheServerInFrontOfIt runs the reporter pattern: a pool
// added before the HTTP server that submits to it. On stop the server
// drains first, so a request in flight can still submit, and only then is
// the pool drained.
func TestPoolStopsAfterTheServerInFrontOfIt(t *testing.T) {
	var handled collector[string]
	pool := shepherd.NewPool("reports", 2, func(ctx context.Context, s string) error {
		handled.add(s)
		return nil
	})
	inHandler := make(chan struct{})
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(inHandler)
		<-release
		if err := pool.Submit(r.Context(), "slow request"); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if _, err := io.WriteString(w, "reported"); err != nil {
			t.Errorf("answering: %v", err)
		}
	})
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: mux})
	var events poolEvents
	sup := shepherd.NewSupervisor("app", shepherd.OnEvent(events.add), shepherd.ShutdownTimeout(time.Minute))
	sup.Add("reports", pool)
	sup.Add("api", api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	eventually(t, func() bool { return len(events.of(shepherd.StateRunning)) == 2 })

	type result struct {
		body string
		err  error
	}
	resp := make(chan result, 1)
	go func() {
		r, err := http.Get("http://" + api.Addr().String() + "/slow")
		if err != nil {
			resp <- result{err: err}
			return
		}
		b, err := io.ReadAll(r.Body)
		err = errors.Join(err, r.Body.Close())
		resp <- result{string(b), err}
	}()
	<-inHandler
	cancel()
	state := func(path string) shepherd.State {
		for _, n := range sup.Snapshot().Children {
			if n.Path == path {
				return n.State
			}
		}
		return -1
	}
	eventually(t, func() bool { return state("app/api") == shepherd.StateStopping })
	if s := state("app/reports"); s != shepherd.StateRunning {
		t.Fatalf("pool state while the server drains = %v; want running", s)
	}
	close(release)
	if r := <-resp; r.err != nil || r.body != "reported" {
		t.Fatalf("request in flight during the stop = %q, %v; want it to submit and answer", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if got := handled.get(); !slices.Equal(got, []string{"slow request"}) {
		t.Fatalf("handled %q; want the item submitted during the server's drain", got)
	}
	var order []string
	for _, e := range events.get() {
		if e.State == shepherd.StateStopping || e.State == shepherd.StateStopped {
			order = append(order, e.State.String()+" "+e.Path)
		}
	}
	want := []string{"stopping app/api", "stopped app/api", "stopping app/reports", "stopped app/reports"}
	if !slices.Equal(order, want) {
		t.Fatalf("stop order = %q; want %q", order, want)
	}
}

//go:noinline
func blockedInHandler(release chan struct{}) { <-release }

// TestPoolStuckHandlerIsReported: a handler that ignores its context keeps
// the pool's Run from returning. Stop still hands the queue back when its
// deadline passes and returns; the Supervisor then reports the pool stuck,
// with the stack of the worker that is blocked.
func TestPoolStuckHandlerIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer func() { close(release); synctest.Wait() }()
		var handedBack collector[int]
		started := make(chan struct{})
		pool := shepherd.NewPool("reports", 1, func(ctx context.Context, x int) error {
			close(started)
			blockedInHandler(release)
			return nil
		}).OnUnprocessed(handedBack.add)
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(2*time.Second))
		sup.Add("reports", pool)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		for i := range 3 {
			if err := pool.Submit(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		<-started
		cancel()
		began := time.Now()
		err := <-done
		if d := time.Since(began); d != 2*time.Second {
			t.Fatalf("Run returned %v after the stop began; want the 2s budget", d)
		}
		var stuck *shepherd.StuckError
		if !errors.As(err, &stuck) || len(stuck.Tasks) != 1 || stuck.Tasks[0].Path != "app/reports" {
			t.Fatalf("Run() = %v; want a *StuckError for app/reports", err)
		}
		if !strings.Contains(err.Error(), `"app/reports" (blocked in github.com/shepherd-go/shepherd_test.blockedInHandler at `) {
			t.Fatalf("Run() = %q; want it to say where the handler blocks", err)
		}
		worker := false
		for _, g := range stuck.Tasks[0].Goroutines {
			if g.Path != "app/reports" {
				t.Errorf("goroutine owned by %q in the report of app/reports", g.Path)
			}
			for _, f := range g.Frames {
				worker = worker || f.Function == "github.com/shepherd-go/shepherd_test.blockedInHandler"
			}
		}
		if !worker {
			t.Fatalf("report lacks the blocked worker:\n%s", stuck.Report())
		}
		if got := handedBack.get(); !slices.Equal(got, []int{1, 2}) {
			t.Fatalf("handed back %v; want the 2 queued items, handed back before the stuck report", got)
		}
		if s := pool.Stats(); s.InFlight != 1 || s.HandedBack != 2 {
			t.Fatalf("Stats() = %+v; want 1 in flight, 2 handed back", s)
		}
	})
}

//go:noinline
func labelOfThisGoroutine() string {
	for _, g := range goroutines.All() {
		for _, f := range g.Frames {
			if f.Function == "github.com/shepherd-go/shepherd_test.labelOfThisGoroutine" {
				return g.Path
			}
		}
	}
	return "(not found)"
}

func TestPoolWorkersCarryThePoolsPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(pool *shepherd.Pool[int]) error
		want string
	}{
		{"alone", func(pool *shepherd.Pool[int]) error { return pool.Run(context.Background()) }, "labels"},
		{"in a Group", func(pool *shepherd.Pool[int]) error {
			g := shepherd.NewGroup(context.Background())
			g.Go("reports", pool.Run)
			return g.Wait()
		}, "reports"},
		{"under a Supervisor", func(pool *shepherd.Pool[int]) error {
			inner := shepherd.NewSupervisor("workers")
			inner.Add("reports", pool)
			app := shepherd.NewSupervisor("app")
			app.Add("workers", inner)
			return app.Run(context.Background())
		}, "app/workers/reports"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var labels collector[string]
			pool := shepherd.NewPool("labels", 2, func(ctx context.Context, x int) error {
				labels.add(labelOfThisGoroutine())
				if p := shepherd.Path(ctx); p != tc.want {
					t.Errorf("Path(handler ctx) = %q; want %q", p, tc.want)
				}
				return nil
			})
			if err := pool.Submit(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			pool.Close() // the pool handles its queue and returns, and so does the tree
			if err := tc.run(pool); err != nil {
				t.Fatal(err)
			}
			if got := labels.get(); !slices.Equal(got, []string{tc.want}) {
				t.Fatalf("worker labels = %q; want %q", got, tc.want)
			}
		})
	}
}
