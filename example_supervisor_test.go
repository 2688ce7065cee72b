package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/shepherd-go/shepherd"
)

// An API server and its pprof server under one Supervisor: they start in
// order, and stop together in reverse order, draining in-flight requests.
func ExampleSupervisor() {
	apiMux := http.NewServeMux()
	apiMux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.WriteString(w, "pong"); err != nil {
			return // the client has gone: there is nobody to answer
		}
	})
	debugMux := http.NewServeMux()
	debugMux.HandleFunc("/debug/pprof/", pprof.Index)

	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: apiMux})
	debug := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: debugMux})

	ctx, stop := context.WithCancel(context.Background())
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(5*time.Second))
	sup.Add("debug", debug)
	sup.Add("api", api)
	// Started only once both servers listen.
	sup.Add("client", shepherd.ServiceFunc(func(ctx context.Context) error {
		resp, err := http.Get("http://" + api.Addr().String() + "/ping")
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		if err := errors.Join(err, resp.Body.Close()); err != nil {
			return err
		}
		fmt.Println(string(body))
		stop() // in a program: os.Exit(shepherd.Main(sup)) stops on SIGTERM
		return nil
	}))
	fmt.Println("Run:", sup.Run(ctx))
	// Output:
	// pong
	// Run: <nil>
}

func ExampleSupervisor_Add() {
	sup := shepherd.NewSupervisor("app")
	// A service awaited with AwaitReady that returns without calling Ready
	// holds the next service back until it has returned: migrations before
	// the cache.
	sup.Add("migrate", shepherd.ServiceFunc(func(ctx context.Context) error {
		fmt.Println("migrating")
		return nil // finished: the others run on
	}), shepherd.AwaitReady(30*time.Second))
	sup.Add("cache", shepherd.ServiceFunc(func(ctx context.Context) error {
		fmt.Println("warming cache")
		shepherd.Ready(ctx) // the next service starts only now
		return nil
	}), shepherd.AwaitReady(30*time.Second))
	sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error {
		fmt.Println("serving")
		return nil
	}))
	fmt.Println("Run:", sup.Run(context.Background()))
	// Output:
	// migrating
	// warming cache
	// serving
	// Run: <nil>
}

func ExampleMain() {
	// Main logs the outcome to the supervisor's Logger (slog.Default()
	// without one); this one discards it.
	sup := shepherd.NewSupervisor("app", shepherd.Logger(discard))
	sup.Add("job", shepherd.ServiceFunc(func(ctx context.Context) error { return nil }))
	code := shepherd.Main(sup)
	fmt.Println("exit code:", code) // a program would call os.Exit(code)
	// Output: exit code: 0
}

// A shutdown that does not finish within its budget ends with a
// *StuckError whose Report says what did not return, with stacks. Main
// writes it to os.Stderr and exits with ExitStuck; a program that runs the
// supervisor itself prints it where it likes.
func ExampleStuckError_Report() {
	release := make(chan struct{})
	defer close(release)
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(50*time.Millisecond))
	sup.Add("stubborn", shepherd.ServiceFunc(func(ctx context.Context) error {
		<-release // ignores ctx: cannot be stopped
		return nil
	}))
	sup.Add("quit", shepherd.ServiceFunc(func(ctx context.Context) error {
		return shepherd.ErrStopTree // stop the tree at once
	}))
	var stuck *shepherd.StuckError
	if err := sup.Run(context.Background()); errors.As(err, &stuck) {
		first, _, _ := strings.Cut(stuck.Report(), "\n")
		fmt.Println(first)
	}
	// Output:
	// 1 service did not stop within the 50ms shutdown budget
}

// MaxTasks bounds the tasks running at once anywhere under a supervisor, so
// a flood of work becomes a queue instead of a flood of goroutines. Here a
// handler sheds load with TryGo once the cap is reached.
func ExampleMaxTasks() {
	sup := shepherd.NewSupervisor("app", shepherd.MaxTasks(2))
	sup.Add("handler", shepherd.ServiceFunc(func(ctx context.Context) error {
		release := make(chan struct{})
		g := shepherd.NewGroup(ctx)
		for i := range 3 {
			started := g.TryGo(fmt.Sprint("report", i), func(ctx context.Context) error {
				<-release
				return nil
			})
			fmt.Printf("report %d started: %v\n", i, started)
		}
		close(release)
		return g.Wait()
	}))
	fmt.Println("Run:", sup.Run(context.Background()))
	// Output:
	// report 0 started: true
	// report 1 started: true
	// report 2 started: false
	// Run: <nil>
}
