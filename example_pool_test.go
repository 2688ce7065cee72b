package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shepherd-go/shepherd"
)

// A pool run as a task of a Group: Close says there are no more items, the
// workers drain the queue, and Run returns.
func ExampleNewPool() {
	var total atomic.Int64
	pool := shepherd.NewPool("sum", 4, func(ctx context.Context, n int) error {
		total.Add(int64(n))
		return nil
	}, shepherd.QueueSize(8))

	ctx := context.Background()
	g := shepherd.NewGroup(ctx)
	g.Go("sum", pool.Run)
	for n := 1; n <= 100; n++ {
		if err := pool.Submit(ctx, n); err != nil { // blocks while 8 items wait
			fmt.Println("Submit:", err)
		}
	}
	pool.Close()
	if err := g.Wait(); err != nil {
		fmt.Println("Wait:", err)
	}
	fmt.Println("total:", total.Load())
	fmt.Printf("%+v\n", pool.Stats())
	// Output:
	// total: 5050
	// {Submitted:100 Queued:0 InFlight:0 Done:100 Failed:0 Panicked:0 HandedBack:0 Interrupted:0 Workers:4 Weight:0}
}

// The reporter pattern: instead of go report(x) in the request handler,
// which is lost on exit and unbounded under load, the handler submits to a
// pool that runs under the same Supervisor as the server. The pool is
// added first, so it starts before the server and stops after it: requests
// still in flight during the stop can submit, and the queue is drained
// before the program exits.
func ExamplePool_reporter() {
	var mu sync.Mutex
	var reported []string
	reports := shepherd.NewPool("reports", 2, func(ctx context.Context, event string) error {
		mu.Lock() // stands in for a call to the metrics backend
		defer mu.Unlock()
		reported = append(reported, event)
		return nil
	}, shepherd.QueueSize(100))

	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		if err := reports.Submit(r.Context(), "ping from "+r.URL.Query().Get("user")); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if _, err := io.WriteString(w, "pong"); err != nil {
			return // the client has gone; its report is queued all the same
		}
	})
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: mux})

	ctx, stop := context.WithCancel(context.Background())
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(5*time.Second))
	sup.Add("reports", reports)
	sup.Add("api", api)
	sup.Add("client", shepherd.ServiceFunc(func(ctx context.Context) error {
		for _, user := range []string{"ada", "grace", "linus"} {
			resp, err := http.Get("http://" + api.Addr().String() + "/ping?user=" + user)
			if err != nil {
				return err
			}
			if err := resp.Body.Close(); err != nil {
				return err
			}
		}
		stop() // in a program: os.Exit(shepherd.Main(sup)) stops on SIGTERM
		return nil
	}))
	fmt.Println("Run:", sup.Run(ctx))
	slices.Sort(reported)
	fmt.Println(reported)
	fmt.Printf("%+v\n", reports.Stats())
	// Output:
	// Run: <nil>
	// [ping from ada ping from grace ping from linus]
	// {Submitted:3 Queued:0 InFlight:0 Done:3 Failed:0 Panicked:0 HandedBack:0 Interrupted:0 Workers:2 Weight:0}
}

func ExamplePool_TrySubmit() {
	release := make(chan struct{})
	pool := shepherd.NewPool("busy", 1, func(ctx context.Context, n int) error {
		<-release
		return nil
	}, shepherd.QueueSize(1))
	fmt.Println(pool.TrySubmit(1)) // queued (the pool has not started)
	fmt.Println(pool.TrySubmit(2)) // no room: shed the load instead of waiting
	close(release)
	pool.Close()
	fmt.Println(pool.Run(context.Background()))
	fmt.Println(pool.TrySubmit(3))
	// Output:
	// <nil>
	// shepherd: pool "busy": queue full (QueueSize 1); shed the item, or use Submit to wait for room
	// <nil>
	// shepherd: pool "busy" is closed: it takes no more items once Close or Stop was called, or a StopOnError failure stopped it
}

// Stop drains the queue, waiting at most until its context's deadline.
func ExamplePool_Stop() {
	var sent atomic.Int64
	pool := shepherd.NewPool("mail", 2, func(ctx context.Context, to string) error {
		sent.Add(1)
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- pool.Run(context.Background()) }()
	for _, to := range []string{"ada", "grace", "linus"} {
		if err := pool.Submit(context.Background(), to); err != nil {
			fmt.Println("not queued:", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("Stop:", pool.Stop(ctx))
	fmt.Println("Run:", <-done)
	fmt.Println("sent:", sent.Load())
	// Output:
	// Stop: <nil>
	// Run: <nil>
	// sent: 3
}

// Items the pool accepted but cannot handle before a stop's deadline are
// handed back to the owner, here to be retried later: those still queued,
// and the one in flight whose send gave up when the stop cancelled it.
func ExamplePool_OnUnprocessed() {
	var retry []string
	started := make(chan struct{})
	mail := shepherd.NewPool("mail", 1, func(ctx context.Context, to string) error {
		close(started)
		<-ctx.Done() // a send that hangs until the stop gives up on it
		return ctx.Err()
	}).OnUnprocessed(func(to string) { retry = append(retry, to) })

	done := make(chan error, 1)
	go func() { done <- mail.Run(context.Background()) }()
	for _, to := range []string{"ada", "grace", "linus"} {
		if err := mail.Submit(context.Background(), to); err != nil {
			fmt.Println("not queued:", err)
		}
	}
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	fmt.Println("Stop:", mail.Stop(ctx))
	fmt.Println("Run:", <-done)
	slices.Sort(retry) // the queued ones and the interrupted one come back in either order
	fmt.Println("to retry:", retry)
	fmt.Printf("%+v\n", mail.Stats())
	// Output:
	// Stop: <nil>
	// Run: <nil>
	// to retry: [ada grace linus]
	// {Submitted:3 Queued:0 InFlight:0 Done:0 Failed:0 Panicked:0 HandedBack:3 Interrupted:1 Workers:1 Weight:0}
}

// With StopOnError, the first failure stops the pool and is what Run
// returns; without it, a failure is that item's alone and the workers go
// on.
func ExampleStopOnError() {
	var handedBack []int
	pool := shepherd.NewPool("imports", 1, func(ctx context.Context, row int) error {
		if row == 2 {
			return errors.New("malformed row")
		}
		return nil
	}, shepherd.StopOnError()).OnUnprocessed(func(row int) { handedBack = append(handedBack, row) })
	for row := range 5 {
		if err := pool.Submit(context.Background(), row); err != nil {
			fmt.Println("not queued:", err)
		}
	}
	pool.Close()
	fmt.Println("Run:", pool.Run(context.Background()))
	fmt.Println("not imported:", handedBack)
	// Output:
	// Run: task "imports[2]": malformed row
	// not imported: [3 4]
}

// Failures are reported under the item's key, through the Logger and
// OnEvent of the tree the pool runs in.
func ExamplePool_ItemKey() {
	type order struct{ ID string }
	pool := shepherd.NewPool("orders", 1, func(ctx context.Context, o order) error {
		if o.ID == "A-2" {
			return errors.New("card declined")
		}
		return nil
	}).ItemKey(func(o order) string { return o.ID })
	sup := shepherd.NewSupervisor("shop", shepherd.OnEvent(func(e shepherd.Event) {
		if e.State == shepherd.StateFailed {
			fmt.Println(e.Path, "failed:", e.Err)
		}
	}))
	sup.Add("orders", pool)
	for _, id := range []string{"A-1", "A-2", "A-3"} {
		if err := pool.Submit(context.Background(), order{id}); err != nil {
			fmt.Println("not queued:", err)
		}
	}
	pool.Close() // the pool drains and finishes, and so does the supervisor
	fmt.Println("Run:", sup.Run(context.Background()))
	// Output:
	// shop/orders[A-2] failed: task "shop/orders[A-2]": card declined
	// Run: <nil>
}
