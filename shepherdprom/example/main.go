// Command example is a server whose shepherd tree Prometheus scrapes: an
// API that feeds a Pool, a service that fails on demand and is restarted,
// and a debug server on localhost with /metrics beside the debug page.
//
//	go run . &
//	curl localhost:8080/work          # an item through the pool
//	curl localhost:8080/crash         # app/flaky fails and restarts
//	curl -s localhost:8081/metrics | grep ^shepherd_
//	curl -s localhost:8081/metrics | promtool check metrics
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/shepherdprom"
)

func main() {
	addr := flag.String("addr", ":8080", "API listen address")
	debugAddr := flag.String("debug-addr", "127.0.0.1:8081", "debug and metrics listen address; keep it on localhost")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	os.Exit(shepherd.Main(newApp(*addr, *debugAddr, log)))
}

func newApp(addr, debugAddr string, log *slog.Logger) *shepherd.Supervisor {
	var metrics *shepherdprom.Collector
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(5*time.Second), shepherd.Logger(log),
		shepherd.OnEvent(func(e shepherd.Event) { metrics.OnEvent(e) }))
	metrics = shepherdprom.New(sup)
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)

	work := shepherd.NewPool("work", 4, func(ctx context.Context, n int) error {
		time.Sleep(time.Duration(n) * time.Millisecond) // stands in for real work
		return nil
	})
	work.Observe(metrics.ObserveItem)
	crash := make(chan struct{}, 1)

	debugMux := http.NewServeMux()
	debugMux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	debugMux.Handle("/debug/shepherd", shepherd.DebugHandler(sup))

	apiMux := http.NewServeMux()
	apiMux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		if err := work.Submit(r.Context(), 1); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "queued")
	})
	apiMux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		select {
		case crash <- struct{}{}:
		default:
		}
		fmt.Fprintln(w, "app/flaky will fail")
	})

	api := shepherd.HTTPServer(&http.Server{Addr: addr, Handler: apiMux, ReadHeaderTimeout: 5 * time.Second})
	debug := shepherd.HTTPServer(&http.Server{Addr: debugAddr, Handler: debugMux, ReadHeaderTimeout: 5 * time.Second})
	sup.Add("debug", debug)
	sup.Add("work", work)
	sup.Add("flaky", shepherd.ServiceFunc(func(ctx context.Context) error {
		select {
		case <-crash:
			return errors.New("asked to crash")
		case <-ctx.Done():
			return nil
		}
	}), shepherd.Restart(shepherd.OnFailure))
	sup.Add("api", api)
	sup.Add("announce", shepherd.ServiceFunc(func(ctx context.Context) error {
		fmt.Printf("api listening on %s\ndebug listening on %s\n", api.Addr(), debug.Addr())
		return nil
	}))
	return sup
}
