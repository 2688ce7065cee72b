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
//     another goroutine, for a short while, after which the request is
//     answered 503 so that the client can retry later. A request does not
//     wait for room for long: the shutdown budget is shared, and the
//     server's drain waits for every request in progress.
//   - The pool is added before the server, so it starts first and stops
//     last: on Ctrl-C (or SIGTERM) the server drains its requests, which can
//     still submit, then the pool drains its queue. The log shows the counts
//     as it goes.
//   - If the shutdown budget runs out first, the reports not yet sent are
//     handed back (here: logged, to be spooled for the next start), and
//     the log says how many. That includes a report being sent when the
//     budget ran out, whose send was cancelled: only a report answered 200
//     was accepted, and each one is either sent or handed back.
//
// Run it and try:
//
//	go build -o /tmp/reporter ./examples/reporter
//	/tmp/reporter & pid=$!
//	for i in $(seq 20); do curl -s localhost:8080/ping; done; kill -INT $pid; wait $pid; echo "exit $?"
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
	wait := flag.Duration("wait", 2*time.Second, "how long a request waits for room in a full queue before it is answered 503")
	reportTime := flag.Duration("report-time", time.Second, "how long sending one report takes")
	shutdown := flag.Duration("shutdown", 15*time.Second, "shutdown budget")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sup := newApp(config{*addr, *workers, *queue, *wait, *reportTime, *shutdown}, log)
	os.Exit(shepherd.Main(sup))
}

// config holds the program's flags.
type config struct {
	addr                   string
	workers, queue         int
	wait, report, shutdown time.Duration
}

// newApp wires the program: the report pool, the API server in front of
// it, and a last service that announces the address once it listens.
func newApp(c config, log *slog.Logger) *shepherd.Supervisor {
	reports := shepherd.NewPool("reports", c.workers, reporter{c.report}.report, shepherd.QueueSize(c.queue)).
		OnUnprocessed(func(data string) {
			log.Warn("report not sent before shutdown; spool it for the next start", "data", data)
		})
	api := shepherd.HTTPServer(&http.Server{Addr: c.addr, Handler: apiHandler(reports, c.wait), ReadHeaderTimeout: 5 * time.Second})

	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(c.shutdown), shepherd.Logger(log))
	sup.Add("reports", reports) // before the server: starts first, stops last
	sup.Add("api", api)
	sup.Add("announce", shepherd.ServiceFunc(func(ctx context.Context) error {
		fmt.Printf("api listening on %s\n", api.Addr())
		return nil
	}))
	return sup
}

func apiHandler(reports *shepherd.Pool[string], wait time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		// Was: go reporter.report("ping pong"). Submit waits while the
		// queue is full, for wait at most.
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		if err := reports.Submit(ctx, "ping pong"); err != nil {
			http.Error(w, "not reported: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if _, err := io.WriteString(w, "pong\n"); err != nil {
			return // the client left before the answer; its report is queued all the same
		}
	})
	return mux
}

// reporter stands in for the seed's metrics client: sending one report
// takes a while.
type reporter struct{ d time.Duration }

// report sends one report, giving up when ctx is cancelled (the shutdown
// budget ran out). Its error then only echoes the cancellation, so the pool
// knows the report was not sent and hands it back with the queued ones.
func (r reporter) report(ctx context.Context, data string) error {
	select {
	case <-time.After(r.d):
		fmt.Printf("report: %s\n", data)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
