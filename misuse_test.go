package shepherd_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

// outcome runs do and describes what happened: "panic: msg", "error: msg"
// or "ok".
func outcome(do func() error) (got string) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok {
				r = err.Error()
			}
			got = fmt.Sprint("panic: ", r)
		}
	}()
	if err := do(); err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}

// TestMisuse is every misuse of the API in one table, with the exact
// answer it gets: a panic for a programming error (the call can never be
// right), an error for a call that was right once and is not any more (the
// pool or supervisor has stopped), and "ok" for calls that are allowed to
// repeat. Every message starts with "shepherd:", names the group, pool or
// supervisor, and says what to do instead.
// nilCtx is the nil context the misuse tests pass on purpose: a variable,
// so that linters leave alone the calls these tests exist to make.
var nilCtx context.Context

func TestMisuse(t *testing.T) {
	bg := context.Background()
	noopTask := func(context.Context) error { return nil }
	noopSvc := shepherd.ServiceFunc(func(context.Context) error { return nil })
	ok := func(ctx context.Context, x int) error { return nil }
	waited := shepherd.NewGroup(bg)
	_ = waited.Wait()

	// A pool that ran and stopped, a supervisor that ran and stopped.
	stoppedPool := shepherd.NewPool("reports", 1, ok)
	stoppedPool.Close()
	_ = stoppedPool.Run(bg)
	stoppedSup := shepherd.NewSupervisor("app")
	stoppedSup.Add("a", noopSvc)
	_ = stoppedSup.Run(bg)
	fullPool := shepherd.NewPool("busy", 1, ok, shepherd.QueueSize(1))
	_ = fullPool.TrySubmit(1)

	for _, tc := range []struct {
		name string
		do   func() error
		want string
	}{
		// Group, Map, ForEach.
		{"NewGroup(nil)", func() error { shepherd.NewGroup(nilCtx); return nil },
			`panic: shepherd: NewGroup(nil): nil context; pass context.Background() or the caller's context`},
		{"Limit(0)", func() error { shepherd.NewGroup(bg, shepherd.Limit(0)); return nil },
			`panic: shepherd: NewGroup: Limit(0) for a top-level group: a group needs at least one slot; omit Limit to leave it unbounded`},
		{"Limit(-1)", func() error { shepherd.NewGroup(bg, shepherd.Limit(-1)); return nil },
			`panic: shepherd: NewGroup: Limit(-1) for a top-level group: a group needs at least one slot; omit Limit to leave it unbounded`},
		{"Go with nil fn", func() error { shepherd.NewGroup(bg).Go("fetch", nil); return nil },
			`panic: shepherd: Group.Go("fetch", nil) in a top-level group: fn is nil; pass the function the task runs`},
		{"TryGo with empty name", func() error { shepherd.NewGroup(bg).TryGo("", noopTask); return nil },
			`panic: shepherd: Group.TryGo with an empty task name in a top-level group; name every task so failures and stuck reports can say which one`},
		{"Go after Wait", func() error { waited.Go("late", noopTask); return nil },
			`panic: shepherd: Group.Go("late") after Wait returned in a top-level group; start every task before Wait, or use a new Group`},
		{"Wait twice", func() error { return waited.Wait() }, `ok`},
		{"zero Group", func() error { new(shepherd.Group).Go("x", noopTask); return nil },
			`panic: shepherd: Group.Go("x") on a Group not made by NewGroup; create it with shepherd.NewGroup(ctx)`},
		{"Map with limit 0", func() error {
			_, err := shepherd.Map(bg, []int{1}, 0, func(context.Context, int) (int, error) { return 0, nil })
			return err
		}, `panic: shepherd: Map with limit 0: limit must be at least 1; pass 1 to run the items one at a time`},
		{"ForEach with nil fn", func() error { return shepherd.ForEach[int](bg, nil, 1, nil) },
			`panic: shepherd: ForEach(nil fn): pass the function to call for each item`},

		// Supervisor.
		{"NewSupervisor with empty name", func() error { shepherd.NewSupervisor(""); return nil },
			`panic: shepherd: NewSupervisor with an empty name; name it after the program or subsystem, like "app"`},
		{"ShutdownTimeout(0)", func() error { shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(0)); return nil },
			`panic: shepherd: supervisor "app": ShutdownTimeout(0s) must be positive`},
		{"MaxRestarts(-1, ...)", func() error { shepherd.NewSupervisor("app", shepherd.MaxRestarts(-1, time.Second)); return nil },
			`panic: shepherd: supervisor "app": MaxRestarts(-1, 1s) needs n >= 0 and a positive period`},
		{"MaxTasks(0)", func() error { shepherd.NewSupervisor("app", shepherd.MaxTasks(0)); return nil },
			`panic: shepherd: supervisor "app": MaxTasks(0) must be at least 1; omit it for no cap`},
		{"DrainDelay past the budget", func() error { shepherd.NewSupervisor("app", shepherd.DrainDelay(20*time.Second)); return nil },
			`panic: shepherd: supervisor "app": DrainDelay(20s) must be at least 0 and less than the ShutdownTimeout (15s), which it is part of`},
		{"Add a nil service", func() error { shepherd.NewSupervisor("app").Add("api", nil); return nil },
			`panic: shepherd: supervisor "app": Add("api", nil): pass the service to run`},
		{"Add with an empty name", func() error { shepherd.NewSupervisor("app").Add("", noopSvc); return nil },
			`panic: shepherd: supervisor "app": Add(""): a service name must be non-empty and contain no "/"; it becomes part of the service's path`},
		{"Add a name twice", func() error {
			s := shepherd.NewSupervisor("app")
			s.Add("api", noopSvc)
			s.Add("api", noopSvc)
			return nil
		}, `panic: shepherd: supervisor "app": Add("api"): a service with that name was already added; names must be unique`},
		{"Add with a bad Backoff", func() error {
			shepherd.NewSupervisor("app").Add("x", noopSvc, shepherd.Backoff{Min: time.Second, Max: time.Millisecond})
			return nil
		}, `panic: shepherd: supervisor "app": Add("x"): invalid Backoff{Min:1s Max:1ms Jitter:0 Reset:0s}; want 0 <= Min <= Max, Jitter in [0, 1], Reset >= 0`},
		{"Add a supervisor to itself", func() error {
			s := shepherd.NewSupervisor("app")
			s.Add("self", s)
			return nil
		}, `panic: shepherd: supervisor "app": Add("self"): the service is this supervisor or contains it; a tree cannot hold itself`},
		{"Add a supervisor below itself", func() error {
			app, workers := shepherd.NewSupervisor("app"), shepherd.NewSupervisor("workers")
			app.Add("workers", workers)
			workers.Add("app", app)
			return nil
		}, `panic: shepherd: supervisor "workers": Add("app"): the service is this supervisor or contains it; a tree cannot hold itself`},
		{"Add after stop", func() error { stoppedSup.Add("late", noopSvc); return nil },
			`panic: shepherd: supervisor "app": Add("late") after Run or Stop was called: use StartService, whose error says whether the service will run`},
		{"StartService after stop", func() error { return stoppedSup.StartService("late", noopSvc) },
			`error: shepherd: supervisor "app": StartService("late") after the supervisor began to stop; add services before Run, or while it runs`},
		{"Add while running", func() error {
			s := shepherd.NewSupervisor("app")
			started := make(chan struct{})
			s.Add("wait", shepherd.ServiceFunc(func(ctx context.Context) error { close(started); <-ctx.Done(); return nil }))
			ctx, cancel := context.WithCancel(bg)
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = s.Run(ctx) // its result is not what this case checks
			}()
			defer func() { cancel(); <-done }()
			<-started
			s.Add("late", noopSvc)
			return nil
		}, `panic: shepherd: supervisor "app": Add("late") after Run or Stop was called: use StartService, whose error says whether the service will run`},
		{"Run(nil)", func() error { return shepherd.NewSupervisor("app").Run(nilCtx) },
			`panic: shepherd: supervisor "app": Run(nil): pass a context; its cancellation stops the supervisor`},
		{"Run while running", func() error {
			s := shepherd.NewSupervisor("app")
			s.Add("wait", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
			first := make(chan error, 1)
			go func() { first <- s.Run(bg) }()
			defer func() { // after the Stop deferred below
				if err := <-first; err != nil {
					t.Errorf("the first Run = %v; want nil once stopped", err)
				}
			}()
			eventually(t, func() bool { return s.Snapshot().State == shepherd.StateRunning })
			defer s.Stop(bg)
			return s.Run(bg)
		}, `error: shepherd: supervisor "app": Run called while it is running; a Supervisor runs one Run at a time`},
		{"Run after Stop before Run", func() error {
			s := shepherd.NewSupervisor("app")
			s.Stop(bg)
			return s.Run(bg)
		}, `error: shepherd: supervisor "app": Stop was called before Run, so this Run starts nothing`},
		{"Stop twice", func() error { stoppedSup.Stop(bg); stoppedSup.Stop(bg); return nil }, `ok`},
		{"HTTPServer(nil)", func() error { shepherd.HTTPServer(nil); return nil },
			`panic: shepherd: HTTPServer(nil): pass the *http.Server to run`},
		{"UseListener(nil)", func() error { shepherd.HTTPServer(&http.Server{}).UseListener(nil); return nil },
			`panic: shepherd: HTTPService.UseListener(nil): pass the bound net.Listener, or leave the call out to bind srv.Addr`},
		{"UseListener after Run", func() error {
			h := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0"})
			done, cancel := context.WithCancel(bg)
			cancel()
			_ = h.Run(done)
			h.UseListener(dummyListener{})
			return nil
		}, `panic: shepherd: HTTPService.UseListener after the service ran: call it on the service HTTPServer returns, before Run`},
		{"Main(nil)", func() error { shepherd.Main(nil); return nil },
			`panic: shepherd: Main(nil): pass the service (usually a *Supervisor) to run`},
		{"Readyz(nil)", func() error { shepherd.Readyz(nil); return nil },
			`panic: shepherd: Readyz(nil): pass the root *Supervisor`},
		{"Livez(nil)", func() error { shepherd.Livez(nil); return nil },
			`panic: shepherd: Livez(nil): pass the root *Supervisor`},

		// Pool.
		{"NewPool with empty name", func() error { shepherd.NewPool("", 1, ok); return nil },
			`panic: shepherd: NewPool with an empty name; name the pool after its work, like "reports"`},
		{"NewPool with 0 workers", func() error { shepherd.NewPool("reports", 0, ok); return nil },
			`panic: shepherd: NewPool("reports", 0 workers): a pool needs at least one worker`},
		{"NewPool with nil handler", func() error { shepherd.NewPool[int]("reports", 1, nil); return nil },
			`panic: shepherd: NewPool("reports", nil handler): pass the function that handles each item`},
		{"QueueSize(-1)", func() error { shepherd.NewPool("reports", 1, ok, shepherd.QueueSize(-1)); return nil },
			`panic: shepherd: NewPool("reports"): QueueSize(-1) must not be negative; use 0 to hand items straight to the workers`},
		{"OnUnprocessed(nil)", func() error { shepherd.NewPool("reports", 1, ok).OnUnprocessed(nil); return nil },
			`panic: shepherd: pool "reports": OnUnprocessed(nil): pass the function, or leave the call out`},
		{"ItemKey(nil)", func() error { shepherd.NewPool("reports", 1, ok).ItemKey(nil); return nil },
			`panic: shepherd: pool "reports": ItemKey(nil): pass the function, or leave the call out`},
		{"OnUnprocessed after Submit", func() error {
			p := shepherd.NewPool("reports", 1, ok)
			_ = p.TrySubmit(1)
			p.OnUnprocessed(func(int) {})
			return nil
		}, `panic: shepherd: pool "reports": OnUnprocessed after Submit or Run: call it on the pool NewPool returns, before the pool is used`},
		{"zero Pool", func() error { return new(shepherd.Pool[int]).Submit(bg, 1) },
			`panic: shepherd: Pool.Submit on a Pool not made by NewPool; create it with shepherd.NewPool`},
		{"Submit(nil, item)", func() error { return shepherd.NewPool("reports", 1, ok).Submit(nilCtx, 1) },
			`panic: shepherd: pool "reports": Submit(nil, item): pass the caller's context; it bounds the wait for room`},
		{"Pool.Run(nil)", func() error { return shepherd.NewPool("reports", 1, ok).Run(nilCtx) },
			`panic: shepherd: pool "reports": Run(nil): pass a context; when it is done the pool stops and hands its queue back`},
		{"Submit after stop", func() error { return stoppedPool.Submit(bg, 1) },
			`error: shepherd: pool "reports" is closed: it takes no more items once Close or Stop was called, or a StopOnError failure stopped it`},
		{"TrySubmit after stop", func() error { return stoppedPool.TrySubmit(1) },
			`error: shepherd: pool "reports" is closed: it takes no more items once Close or Stop was called, or a StopOnError failure stopped it`},
		{"TrySubmit when full", func() error { return fullPool.TrySubmit(2) },
			`error: shepherd: pool "busy": queue full (QueueSize 1); shed the item, or use Submit to wait for room`},
		{"Close twice", func() error { stoppedPool.Close(); stoppedPool.Close(); return nil }, `ok`},
		{"Stop after Run returned", func() error { return stoppedPool.Stop(bg) }, `ok`},
		{"Pool.Run twice", func() error { return stoppedPool.Run(bg) },
			`error: shepherd: pool "reports": Run called twice; a Pool runs once, make a new one`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := outcome(tc.do); got != tc.want {
				t.Fatalf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
			}
		})
	}
}

// dummyListener is a net.Listener that is never served: UseListener's
// misuse cases panic before it is used.
type dummyListener struct{ net.Listener }
