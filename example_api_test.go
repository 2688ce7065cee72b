package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/shepherd-go/shepherd"
)

// Services start in the order they were added, each once the one before
// it is ready, and stop in reverse order. Options follow the name: here a
// shutdown budget and a restart strategy.
func ExampleNewSupervisor() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(5*time.Second), shepherd.OneForAll)
	for _, name := range []string{"db", "cache", "api"} {
		sup.Add(name, shepherd.ServiceFunc(func(ctx context.Context) error {
			fmt.Println("start", name)
			shepherd.Ready(ctx)
			if name == "api" {
				cancel() // everything runs: stop the example
			}
			<-ctx.Done()
			fmt.Println("stop", name)
			return nil
		}), shepherd.AwaitReady(time.Second))
	}
	fmt.Println("Run:", sup.Run(ctx))
	// Output:
	// start db
	// start cache
	// start api
	// stop api
	// stop cache
	// stop db
	// Run: <nil>
}

// A service added with AwaitReady holds the next one back until it calls
// Ready: the API starts only once the database is connected.
func ExampleAwaitReady() {
	sup := shepherd.NewSupervisor("app")
	sup.Add("db", shepherd.ServiceFunc(func(ctx context.Context) error {
		fmt.Println("db: connected")
		shepherd.Ready(ctx)
		<-ctx.Done()
		return nil
	}), shepherd.AwaitReady(30*time.Second))
	sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error {
		fmt.Println("api: serving")
		return shepherd.ErrStopTree // end the example
	}))
	fmt.Println("Run:", sup.Run(context.Background()))
	// Output:
	// db: connected
	// api: serving
	// Run: task "app/api": shepherd: stop the tree
}

// Add wires a tree before Run; StartService adds to a running one, and
// its error says when the service will never run.
func ExampleSupervisor_StartService() {
	sup := shepherd.NewSupervisor("app")
	sup.Add("base", shepherd.ServiceFunc(func(ctx context.Context) error {
		shepherd.Ready(ctx)
		<-ctx.Done()
		return nil
	}), shepherd.AwaitReady(time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()

	started := make(chan struct{})
	plugin := shepherd.ServiceFunc(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return nil
	})
	if err := sup.StartService("plugin", plugin); err != nil {
		fmt.Println("not started:", err)
	}
	<-started
	fmt.Println("plugin runs")
	cancel()
	fmt.Println("Run:", <-done)

	err := sup.StartService("late", plugin)
	fmt.Println("after the stop:", errors.Is(err, shepherd.ErrClosed))
	// Output:
	// plugin runs
	// Run: <nil>
	// after the stop: true
}

// An HTTPServer is ready once its port is bound, so the services added
// after it can call it at once; its handlers' contexts carry its path.
func ExampleHTTPServer() {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello from "+shepherd.Path(r.Context())+"\n")
	})
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: mux, ReadHeaderTimeout: 5 * time.Second})
	sup := shepherd.NewSupervisor("app")
	sup.Add("api", api)
	sup.Add("client", shepherd.ServiceFunc(func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+api.Addr().String()+"/hello", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		if cerr := resp.Body.Close(); err == nil {
			err = cerr
		}
		fmt.Print(string(body))
		if err != nil {
			return err
		}
		return shepherd.ErrStopTree // end the example
	}))
	fmt.Println("Run:", sup.Run(context.Background()))
	http.DefaultClient.CloseIdleConnections()
	// Output:
	// hello from app/api
	// Run: task "app/client": shepherd: stop the tree
}

// UseListener serves on a listener the program bound itself (say, one
// handed over by systemd socket activation) instead of binding srv.Addr;
// the service is ready at once and Addr reports the listener's address.
func ExampleHTTPService_UseListener() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello from "+shepherd.Path(r.Context())+"\n")
	})
	api := shepherd.HTTPServer(&http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}).UseListener(ln)
	fmt.Println("same address:", api.Addr().String() == ln.Addr().String())
	sup := shepherd.NewSupervisor("app")
	sup.Add("api", api)
	sup.Add("client", shepherd.ServiceFunc(func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+ln.Addr().String()+"/hello", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		if cerr := resp.Body.Close(); err == nil {
			err = cerr
		}
		fmt.Print(string(body))
		if err != nil {
			return err
		}
		return shepherd.ErrStopTree // end the example
	}))
	fmt.Println("Run:", sup.Run(context.Background()))
	http.DefaultClient.CloseIdleConnections()
	_, err = net.Dial("tcp", ln.Addr().String())
	fmt.Println("listener closed:", err != nil)
	// Output:
	// same address: true
	// hello from app/api
	// Run: task "app/client": shepherd: stop the tree
	// listener closed: true
}

// A GoroutineSampler counts the goroutines each node of a tree holds; a
// node past its MaxGoroutines is reported. In a program the sampler is a
// service of the tree it watches (sup.Add("goroutine-sampler", gs)), which
// samples at its interval; here one sample is taken by hand.
func ExampleNewGoroutineSampler() {
	release, leaked := make(chan struct{}), make(chan struct{})
	sup := shepherd.NewSupervisor("app")
	sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error {
		for range 5 {
			go func() { <-release }() // a leak: nothing waits for these
		}
		close(leaked)
		<-ctx.Done()
		return nil
	}))
	gs := shepherd.NewGoroutineSampler(sup, time.Minute).MaxGoroutines("app/api", 3)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	<-leaked
	for _, over := range gs.Sample() {
		fmt.Printf("%s: %v goroutines past its ceiling of %d\n", over.Path, over.Count > over.Max, over.Max)
	}
	close(release)
	cancel()
	fmt.Println("Run:", <-done)
	// Output:
	// app/api: true goroutines past its ceiling of 3
	// Run: <nil>
}
