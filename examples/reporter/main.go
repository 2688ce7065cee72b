// Command reporter is the asynchronous reporter done right. The seed
// program reported each request with
//
//	go reporter.report("ping pong")
//
// in its HTTP handler: one goroutine per request, however many requests
// come in, and every report still pending is lost when the process exits.
// Here the handler submits the report to a shepherd Pool that runs under
// the same Supervisor as the server:
//
//   - A fixed number of workers send the reports; when the queue is full,
//     Submit makes the request wait (backpressure) instead of starting yet
//     another goroutine.
//   - The pool is added before the server, so it starts first and stops
//     last: on Ctrl-C (or SIGTERM) the server drains its requests, which can
//     still submit, then the pool drains its queue. The log shows the counts
//     as it goes.
//   - If the shutdown budget runs out first, the reports not yet sent are
//     handed back (here: logged, to be spooled for the next start), and
//     the log says how many.
//
// Run it and try:
//
//	for i in $(seq 20); do curl -s localhost:8080/ping; done; kill -INT %go-run-pid
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/shepherd-go/shepherd"
)

func main() {
	addr := flag.String("addr", ":8080", "API listen address")
	workers := flag.Int("workers", 2, "reports sent at once")
	queue := flag.Int("queue", 100, "reports waiting at most; then requests wait")
	reportTime := flag.Duration("report-time", time.Second, "how long sending one report takes")
	shutdown := flag.Duration("shutdown", 15*time.Second, "shutdown budget")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sup := newApp(*addr, *workers, *queue, *reportTime, *shutdown, log)
	os.Exit(shepherd.Main(sup))
}

// newApp wires the program: the report pool, the API server in front of
// it, and a last service that announces the address once it listens.
func newApp(addr string, workers, queue int, reportTime, shutdown time.Duration, log *slog.Logger) *shepherd.Supervisor {
	reports := shepherd.NewPool("reports", workers, reporter{reportTime}.report,
		shepherd.QueueSize(queue),
		shepherd.OnUnprocessed(func(data string) {
			log.Warn("report not sent before shutdown; spool it for the next start", "data", data)
		}))
	api := shepherd.HTTPServer(&http.Server{Addr: addr, Handler: apiHandler(reports), ReadHeaderTimeout: 5 * time.Second})

	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(shutdown), shepherd.Logger(log))
	sup.Add("reports", reports) // before the server: starts first, stops last
	sup.Add("api", api)
	sup.Add("announce", shepherd.ServiceFunc(func(ctx context.Context) error {
		fmt.Printf("api listening on %s\n", api.Addr())
		return nil
	}))
	return sup
}

func apiHandler(reports *shepherd.Pool[string]) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		// Was: go reporter.report("ping pong"). Submit waits while the
		// queue is full, for as long as the request is alive.
		if err := reports.Submit(r.Context(), "ping pong"); err != nil {
			http.Error(w, "not reported: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "pong\n")
	})
	return mux
}

// reporter stands in for the seed's metrics client: sending one report
// takes a while.
type reporter struct{ d time.Duration }

// report sends one report, giving up when ctx is cancelled (the shutdown
// budget ran out), in which case the pool counts it as failed.
func (r reporter) report(ctx context.Context, data string) error {
	select {
	case <-time.After(r.d):
		fmt.Printf("report: %s\n", data)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
