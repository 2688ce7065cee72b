package bench

// The peers' side of MIGRATING.md (in the repository's root): each peer
// snippet there is an excerpt of this file, so it compiles against the
// versions in go.mod. The examples with an Output comment also run, and pin
// down the behaviour MIGRATING.md contrasts with shepherd's.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/oklog/run"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/iter"
	"github.com/sourcegraph/conc/pool"
	"github.com/thejerf/suture/v4"
	"golang.org/x/sync/errgroup"
)

func fetch(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", errors.New("empty id")
	}
	return "page " + id, ctx.Err()
}

func fetchAll(ctx context.Context, ids []string) ([]string, error) {
	pages := make([]string, len(ids))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, id := range ids {
		g.Go(func() (err error) {
			pages[i], err = fetch(ctx, id)
			return err
		})
	}
	return pages, g.Wait()
}

func Example_migrateErrgroup() {
	fmt.Println(fetchAll(context.Background(), []string{"a", "b", "c"}))
	// Output:
	// [page a page b page c] <nil>
}

// errgroup runs the tasks of a Group whose parent is already cancelled, and
// Wait reports success when they ignore the context.
func Example_migrateErrgroupCancelledParent() {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("client went away"))

	ran := false
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		ran = true
		return nil
	})
	err := g.Wait()
	fmt.Println(ran, err, context.Cause(ctx))
	// Output:
	// true <nil> client went away
}

// errgroup's Wait returns the first error only.
func Example_migrateErrgroupFirstFailure() {
	g, ctx := errgroup.WithContext(context.Background())
	g.Go(func() error { return errors.New("disk full") })
	g.Go(func() error {
		<-ctx.Done()
		return errors.New("unreachable")
	})
	fmt.Println(g.Wait())
	// Output:
	// disk full
}

func warm(table string) {
	if table == "orders" {
		panic("no schema for " + table)
	}
}

func Example_migrateConcWaitGroup() {
	var wg conc.WaitGroup
	wg.Go(func() { warm("users") })
	wg.Go(func() { warm("orders") })
	r := wg.WaitAndRecover() // wg.Wait() would panic again here
	fmt.Println(r.Value)
	// Output:
	// no schema for orders
}

func uploadFile(ctx context.Context, file string) error {
	if strings.HasSuffix(file, ".tmp") {
		return fmt.Errorf("%s: refused", file)
	}
	return ctx.Err()
}

func Example_migrateConcPool() {
	ctx := context.Background()
	files := []string{"a.txt", "b.tmp", "c.txt"}

	p := pool.New().WithMaxGoroutines(4).WithContext(ctx).WithCancelOnError().WithFirstError()
	for _, f := range files {
		p.Go(func(ctx context.Context) error { return uploadFile(ctx, f) })
	}
	err := p.Wait()
	fmt.Println(err)
	// Output:
	// b.tmp: refused
}

func Example_migrateConcIter() {
	words := []string{"owner", "name", "context"}
	lengths := iter.Mapper[string, int]{MaxGoroutines: 4}.Map(words, func(w *string) int {
		return len(*w)
	})
	fmt.Println(lengths)
	// Output:
	// [5 4 7]
}

// runApp is the oklog/run version of the root module's runApp; the
// signal actor stands in for shepherd.Main.
func runApp(addr string, handler http.Handler, tick func(context.Context) error) error {
	var g run.Group
	g.Add(run.SignalHandler(context.Background(), syscall.SIGINT, syscall.SIGTERM))
	srv := &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	g.Add(func() error {
		return srv.ListenAndServe()
	}, func(error) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	ctx, cancel := context.WithCancel(context.Background())
	g.Add(func() error {
		return tick(ctx)
	}, func(error) {
		cancel()
	})
	return g.Run()
}

// Compiled, not run: it waits for a signal.
func Example_migrateOklogRun() {
	tick := func(ctx context.Context) error { <-ctx.Done(); return nil }
	fmt.Println(runApp(":8080", http.NotFoundHandler(), tick))
}

// syncer is a suture.Service.
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

func Example_migrateSuture() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &syncer{ready: make(chan struct{})}
	go func() { <-s.ready; cancel() }()

	sup := suture.New("app", suture.Spec{Timeout: 15 * time.Second, EventHook: func(suture.Event) {}})
	sup.Add(s)
	err := sup.Serve(ctx)
	fmt.Println(s.runs.Load(), err)
	// Output:
	// 3 context canceled
}

var sent atomic.Int64

func send(report string) error {
	if report == "" {
		return errors.New("empty report")
	}
	sent.Add(1)
	return nil
}

func Example_migratePond() {
	p := pond.NewPool(4, pond.WithQueueSize(64))
	for _, r := range []string{"ping", "", "pong"} {
		if err := p.Go(func() { send(r) }); err != nil { // the error of send is lost
			fmt.Println("not queued:", err)
		}
	}
	p.StopAndWait()
	fmt.Println(p.SubmittedTasks(), p.SuccessfulTasks(), p.FailedTasks())
	// Output:
	// 3 3 0
}

func Example_migrateAnts() {
	var wg sync.WaitGroup
	p, err := ants.NewPoolWithFuncGeneric(4, func(r string) {
		defer wg.Done()
		send(r)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Release()
	for _, r := range []string{"ping", "", "pong"} {
		wg.Add(1)
		if err := p.Invoke(r); err != nil { // blocks until a worker is free
			wg.Done()
			fmt.Println("not run:", err)
		}
	}
	wg.Wait()
	fmt.Println("sent")
	// Output:
	// sent
}
