// Command server is the API server and its pprof server done right: both,
// plus a background loop, run under one Supervisor.
//
//   - They start in order, each once the one before is listening.
//   - Ctrl-C (or SIGTERM) stops them in reverse order: the API server stops
//     accepting and drains in-flight requests (try /slow), the pprof server
//     and the loop stop too, and the process exits 0.
//   - If either server fails, the other stops as well; nothing is left
//     running as a zombie, and the exit code says what happened.
//   - A second Ctrl-C exits at once, printing what was still running.
//
// Build it and run the binary, not go run: a signal sent to go run's pid
// leaves the server running without its parent, and the exit code shown
// would be go run's (1), not the program's. In a shell:
//
//	go build -o /tmp/server ./examples/server
//	/tmp/server & pid=$!
//	curl localhost:8080/ping
//	curl 'localhost:8080/slow?d=5s' & sleep 1; kill -TERM $pid; wait $pid; echo "exit $?"   # the request completes: exit 0
//
// and, started again, try:
//
//	curl localhost:8081/debug/pprof/goroutine?debug=1   # labels show owners
//	curl localhost:8080/hang   # then Ctrl-C (or kill -INT $pid): exit code 3, a stuck report names app/api/hang
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/shepherd-go/shepherd"
)

func main() {
	addr := flag.String("addr", ":8080", "API listen address")
	debugAddr := flag.String("debug-addr", "127.0.0.1:8081", "pprof listen address; keep it on localhost")
	shutdown := flag.Duration("shutdown", 15*time.Second, "shutdown budget")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sup := newApp(*addr, *debugAddr, *shutdown, log)
	os.Exit(shepherd.Main(sup))
}

// newApp wires the program: the loop, the pprof server, the API server, and
// a last service that announces the addresses once both servers listen.
func newApp(addr, debugAddr string, shutdown time.Duration, log *slog.Logger) *shepherd.Supervisor {
	debugMux := debugHandler()
	api := shepherd.HTTPServer(&http.Server{Addr: addr, Handler: apiHandler(), ReadHeaderTimeout: 5 * time.Second})
	debug := shepherd.HTTPServer(&http.Server{Addr: debugAddr, Handler: debugMux, ReadHeaderTimeout: 5 * time.Second})

	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(shutdown), shepherd.Logger(log))
	debugMux.Handle("/debug/shepherd", shepherd.DebugHandler(sup)) // the live tree; the debug port stays on localhost
	sup.Add("ticker", shepherd.ServiceFunc(tick(log)))
	sup.Add("debug", debug)
	sup.Add("api", api)
	sup.Add("announce", shepherd.ServiceFunc(func(ctx context.Context) error {
		// Starts only once the servers before it are listening.
		fmt.Printf("api listening on %s\ndebug listening on %s\n", api.Addr(), debug.Addr())
		return nil
	}))
	return sup
}

func apiHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintln(w, "pong")
	})
	// /slow?d=2s answers after d: a request that is in flight when the
	// server is asked to stop, and finishes during the drain. It sends its
	// headers at once, so a client can tell it is being served.
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil {
			d = 2 * time.Second
		}
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
		select {
		case <-time.After(d):
			_, _ = fmt.Fprintf(w, "done after %v\n", d)
		case <-r.Context().Done():
		}
	})
	// /hang never answers and ignores cancellation: the bug a stuck report
	// is for. Stop the server while one is in flight, and the report names
	// app/api/hang and the line where it blocks.
	mux.Handle("/hang", shepherd.LabelHandler("hang", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {}
	})))
	return mux
}

func debugHandler() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// tick is a background loop: it stops when its context is cancelled.
func tick(log *slog.Logger) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				log.Info("tick")
			}
		}
	}
}
