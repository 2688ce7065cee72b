package shepherd_test

// The shepherd side of MIGRATING.md: each snippet there is an excerpt of
// one of these examples, and each example runs with the tests. The peers'
// side is in bench/migrating_test.go, which compiles against the peers.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shepherd-go/shepherd"
	"go.uber.org/multierr"
)

// fetch stands in for a call to another service.
func fetch(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", errors.New("empty id")
	}
	return "page " + id, ctx.Err()
}

// fetchAll is errgroup's canonical job: fetch every page with at most 8
// calls at once; the first failure cancels the others.
func fetchAll(ctx context.Context, ids []string) ([]string, error) {
	pages := make([]string, len(ids))
	g := shepherd.NewGroup(ctx, shepherd.Limit(8))
	for i, id := range ids {
		g.Go("fetch "+id, func(ctx context.Context) (err error) {
			pages[i], err = fetch(ctx, id)
			return err
		})
	}
	return pages, g.Wait()
}

func Example_migrateErrgroup() {
	ctx := context.Background()
	fmt.Println(fetchAll(ctx, []string{"a", "b", "c"}))

	// The same job, with the results in input order and the limit in the call.
	pages, err := shepherd.Map(ctx, []string{"a", "b", "c"}, 8, fetch)
	fmt.Println(pages, err)

	_, err = shepherd.Map(ctx, []string{"a", "", "c"}, 8, fetch)
	fmt.Println(err)
	// Output:
	// [page a page b page c] <nil>
	// [page a page b page c] <nil>
	// task "map[1]": empty id
}

// A parent that is already cancelled runs nothing, and Wait says why.
func Example_migrateErrgroupCancelledParent() {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("client went away"))

	ran := false
	g := shepherd.NewGroup(ctx)
	g.Go("work", func(ctx context.Context) error {
		ran = true
		return nil
	})
	err := g.Wait()
	fmt.Println(ran, err) // errgroup: true <nil>
	// Output:
	// false client went away
}

// Wait returns the first failure first, then every later failure that is
// not a mere echo of the cancellation, each naming its task.
func Example_migrateErrgroupEveryFailure() {
	g := shepherd.NewGroup(context.Background())
	started := make(chan struct{}) // the primary fails once all three have started
	g.Go("primary", func(ctx context.Context) error {
		<-started
		return errors.New("disk full")
	})
	g.Go("replica", func(ctx context.Context) error {
		<-ctx.Done() // cancelled by the primary's failure
		return errors.New("unreachable")
	})
	g.Go("cache", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err() // an echo of the cancellation: not a failure
	})
	close(started)
	err := g.Wait()
	for _, e := range multierr.Errors(err) {
		fmt.Println(e)
	}
	// Output:
	// task "primary": disk full
	// task "replica": unreachable
}

// The zero Group does not work, and a Group is not reused after Wait: both
// are programming errors, so they panic with a message that says the fix.
func Example_migrateErrgroupMisuse() {
	try := func(f func()) {
		defer func() { fmt.Println(recover()) }()
		f()
	}
	try(func() {
		var g shepherd.Group
		g.Go("work", func(ctx context.Context) error { return nil })
	})
	try(func() {
		g := shepherd.NewGroup(context.Background())
		_ = g.Wait()
		g.Go("more work", func(ctx context.Context) error { return nil })
	})
	// Output:
	// shepherd: Group.Go("work") on a Group not made by NewGroup; create it with shepherd.NewGroup(ctx)
	// shepherd: Group.Go("more work") after Wait returned in a top-level group; start every task before Wait, or use a new Group
}

// warm stands in for filling a cache; it panics on a bug.
func warm(ctx context.Context, table string) error {
	if table == "orders" {
		panic("no schema for " + table) // a bug
	}
	return nil
}

// conc's WaitGroup: independent jobs, and a panic in one of them.
func Example_migrateConcWaitGroup() {
	ctx := context.Background()
	g := shepherd.NewGroup(ctx)
	g.Go("warm users", func(ctx context.Context) error { return warm(ctx, "users") })
	g.Go("warm orders", func(ctx context.Context) error { return warm(ctx, "orders") })
	err := g.Wait() // a panic comes back as a *shepherd.PanicError
	var pe *shepherd.PanicError
	if errors.As(err, &pe) {
		fmt.Printf("%s panicked: %v\n", pe.Task, pe.Value)
	}
	// Output:
	// warm orders panicked: no schema for orders
}

// uploadFile stands in for a call that fails for one file.
func uploadFile(ctx context.Context, file string) error {
	if strings.HasSuffix(file, ".tmp") {
		return fmt.Errorf("%s: refused", file)
	}
	return ctx.Err()
}

// conc's pool with a context, cancelled on the first error.
func Example_migrateConcPool() {
	ctx := context.Background()
	files := []string{"a.txt", "b.tmp", "c.txt"}

	g := shepherd.NewGroup(ctx, shepherd.Limit(4))
	for _, f := range files {
		g.Go("upload "+f, func(ctx context.Context) error { return uploadFile(ctx, f) })
	}
	err := g.Wait()
	fmt.Println(err)

	// The same with one call: at most 4 goroutines, whatever len(files).
	err = shepherd.ForEach(ctx, files, 4, uploadFile)
	fmt.Println(err)
	// Output:
	// task "upload b.tmp": b.tmp: refused
	// task "map[1]": b.tmp: refused
}

// conc's iter.Map and iter.Mapper.
func Example_migrateConcIter() {
	ctx := context.Background()
	words := []string{"owner", "name", "context"}
	lengths, err := shepherd.Map(ctx, words, 4, func(ctx context.Context, w string) (int, error) {
		return len(w), nil
	})
	fmt.Println(lengths, err)
	// Output:
	// [5 4 7] <nil>
}

// runApp is oklog/run's canonical job: an HTTP server and a background loop
// that stop together. In a program, os.Exit(shepherd.Main(sup)) runs the
// tree until SIGINT or SIGTERM.
func runApp(ctx context.Context, addr string, handler http.Handler, tick func(context.Context) error) error {
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(15*time.Second))
	sup.Add("api", shepherd.HTTPServer(&http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 5 * time.Second}))
	sup.Add("ticker", shepherd.ServiceFunc(tick))
	return sup.Run(ctx)
}

func Example_migrateOklogRun() {
	ctx, stop := context.WithCancel(context.Background())
	ticks := 0
	tick := func(ctx context.Context) error {
		for ticks < 3 {
			ticks++
		}
		stop() // stands in for SIGTERM
		<-ctx.Done()
		return nil
	}
	err := runApp(ctx, "127.0.0.1:0", http.NotFoundHandler(), tick)
	fmt.Println(ticks, err) // oklog/run: the first actor's error, here the SignalError
	// Output:
	// 3 <nil>
}

// syncer is a suture.Service: Serve(ctx) error.
type syncer struct {
	runs  atomic.Int32
	ready chan struct{}
}

func (s *syncer) Serve(ctx context.Context) error {
	if n := s.runs.Add(1); n < 3 {
		return fmt.Errorf("connection reset (run %d)", n)
	}
	close(s.ready)
	<-ctx.Done()
	return ctx.Err()
}

// suture's job: a service restarted whenever it returns.
func Example_migrateSuture() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &syncer{ready: make(chan struct{})}
	go func() { <-s.ready; cancel() }()

	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(15*time.Second))
	sup.Add("sync", shepherd.ServiceFunc(s.Serve), shepherd.Restart(shepherd.Always),
		shepherd.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond})
	err := sup.Run(ctx)
	fmt.Println(s.runs.Load(), err) // suture: 3 context.Canceled
	// Output:
	// 3 <nil>
}

// send stands in for a report sent to another system.
func send(ctx context.Context, report string) error {
	if report == "" {
		return errors.New("empty report")
	}
	return ctx.Err()
}

// pond's and ants' job: a stream of items handled by 4 workers behind a
// bounded queue, drained at the end.
func Example_migratePool() {
	ctx := context.Background()
	var spool []string // items handed back at a stop that ran out of time
	reports := shepherd.NewPool("reports", 4, send, shepherd.QueueSize(64)).
		OnUnprocessed(func(r string) { spool = append(spool, r) })
	g := shepherd.NewGroup(ctx)
	g.Go("reports", reports.Run) // under a Supervisor: sup.Add("reports", reports)
	for _, r := range []string{"ping", "", "pong"} {
		if err := reports.Submit(ctx, r); err != nil { // blocks while the queue is full
			fmt.Println("not queued:", err)
		}
	}
	reports.Close() // no more items: drain the queue, then Run returns
	err := g.Wait()
	fmt.Println(err, spool)
	fmt.Printf("%+v\n", reports.Stats())
	// Output:
	// <nil> []
	// {Submitted:3 Queued:0 InFlight:0 Done:2 Failed:1 Panicked:0 HandedBack:0 Interrupted:0 Workers:4 Weight:0}
}
