// Command k8s is the example server made a good Kubernetes citizen: its
// debug port serves readiness and liveness probes derived from the
// supervision tree, and SIGTERM starts a drain that loses no request during
// a rolling update. deployment.yaml runs it; README.md explains the
// timeline.
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

// The defaults are the numbers deployment.yaml is written against; a test
// checks the two agree.
const (
	defaultAddr       = ":8080"
	defaultDebugAddr  = ":8081"
	defaultShutdown   = 25 * time.Second
	defaultDrainDelay = 5 * time.Second
)

func main() {
	addr := flag.String("addr", defaultAddr, "API listen address")
	// The kubelet probes the pod's IP, so the debug port listens on every
	// interface here; keep it out of any Service and behind a NetworkPolicy.
	debugAddr := flag.String("debug-addr", defaultDebugAddr, "probe and pprof listen address")
	shutdown := flag.Duration("shutdown", defaultShutdown, "shutdown budget, drain delay included")
	drain := flag.Duration("drain-delay", defaultDrainDelay, "how long to stay up, not ready, after SIGTERM")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sup := shepherd.NewSupervisor("app",
		shepherd.ShutdownTimeout(*shutdown),
		shepherd.DrainDelay(*drain),
		shepherd.Logger(log))

	api := shepherd.HTTPServer(&http.Server{Addr: *addr, Handler: apiHandler(), ReadHeaderTimeout: 5 * time.Second})
	debug := shepherd.HTTPServer(&http.Server{Addr: *debugAddr, Handler: debugHandler(sup), ReadHeaderTimeout: 5 * time.Second})
	sup.Add("debug", debug)
	sup.Add("api", api)
	sup.Add("announce", shepherd.ServiceFunc(func(ctx context.Context) error {
		fmt.Printf("api listening on %s\ndebug listening on %s\n", api.Addr(), debug.Addr())
		return nil
	}))
	os.Exit(shepherd.Main(sup))
}

func apiHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintln(w, "pong")
	})
	return mux
}

func debugHandler(sup *shepherd.Supervisor) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/readyz", shepherd.Readyz(sup))
	mux.Handle("/livez", shepherd.Livez(sup))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	return mux
}
