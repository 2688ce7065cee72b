// Command leak-hunt is the seed's leaking server run under a Supervisor,
// with shepherd's debug page beside it to find who leaks.
//
// Each GET /leak starts a goroutine that waits on a channel nobody will
// ever send to, so the process gains one goroutine per request for good.
// The handler is the seed's, bare go statement included; what changes is
// that the route is wrapped in shepherd.LabelHandler, so the goroutines it
// starts carry the label "shepherd.path=app/api/leak". The debug server,
// bound to localhost only, serves the tree with every goroutine under its
// owner:
//
//	curl localhost:8080/leak; curl localhost:8080/leak
//	curl localhost:8081/debug/shepherd                # plain text
//	open http://localhost:8081/debug/shepherd?format=html
//	curl 'localhost:8081/debug/shepherd?format=json'
//
// The page lists the two leaked goroutines under app/api as "2 goroutines
// of app/api/leak", blocked in main.leak.func1: the owner and the line, not
// a count to guess from. Stop the server and the leak is reported once
// more: the leaked goroutines outlive the API server, so after the 2 s
// shutdown budget the stuck report names them and their owner, and the
// process exits with code 3. examples/forgotten-sender shows how a Group
// fixes this kind of leak.
//
// A leak must not take the process down quietly either: a
// GoroutineSampler counts the goroutines under each service every -sample
// interval, with a ceiling of -max-goroutines on app/api. Past it, the log
// names the owner and where its goroutines wait, and the liveness probe on
// the debug port answers 503 naming app/api, so that an orchestrator
// restarts the process before its memory runs out:
//
//	for i in $(seq 200); do curl -s localhost:8080/leak >/dev/null; done
//	curl -i localhost:8081/livez
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
	debugAddr := flag.String("debug-addr", "127.0.0.1:8081", "debug listen address; keep it on localhost")
	maxGoroutines := flag.Int("max-goroutines", 100, "the most goroutines app/api may hold before the liveness probe fails")
	sample := flag.Duration("sample", 10*time.Second, "how often to count each service's goroutines")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	os.Exit(shepherd.Main(newApp(*addr, *debugAddr, *maxGoroutines, *sample, log)))
}

// newApp runs the API and the debug server under one supervisor, and
// announces their addresses once both listen.
func newApp(addr, debugAddr string, maxGoroutines int, sample time.Duration, log *slog.Logger) *shepherd.Supervisor {
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(2*time.Second), shepherd.Logger(log))
	gs := shepherd.NewGoroutineSampler(sup, sample).
		MaxGoroutines("app/api", maxGoroutines).MaxGoroutines("app/debug", 100)
	api := shepherd.HTTPServer(&http.Server{Addr: addr, Handler: apiHandler(), ReadHeaderTimeout: 5 * time.Second})
	debug := shepherd.HTTPServer(&http.Server{Addr: debugAddr, Handler: debugHandler(sup, gs), ReadHeaderTimeout: 5 * time.Second})
	sup.Add("goroutine-sampler", gs)
	sup.Add("debug", debug)
	sup.Add("api", api)
	sup.Add("announce", shepherd.ServiceFunc(func(ctx context.Context) error {
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
	mux.Handle("/leak", shepherd.LabelHandler("leak", http.HandlerFunc(leak)))
	return mux
}

// leak is the seed's LeakHandle: the goroutine it starts blocks on a
// channel that nothing sends to or closes, so it never returns.
func leak(w http.ResponseWriter, r *http.Request) {
	ch := make(chan bool)
	go func() {
		<-ch
	}()
	_, _ = fmt.Fprintln(w, "will leak")
}

// debugHandler serves the shepherd debug page, with each service's
// goroutine trend, beside net/http/pprof and the liveness probe.
func debugHandler(sup *shepherd.Supervisor, gs *shepherd.GoroutineSampler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/debug/shepherd", shepherd.DebugHandler(sup))
	mux.Handle("/livez", gs.Livez(shepherd.Livez(sup)))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	return mux
}
