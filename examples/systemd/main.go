// Command systemd is a small server run as a systemd service:
// shepherd.Main tells systemd when the tree is ready (Type=notify), when
// it stops and how long the stop may take, and pings the watchdog while
// the tree is live. shepherd-example.service is its unit; a test checks
// that the unit's numbers agree with the program's.
//
// Install it with the unit file:
//
//	go build -o /usr/local/bin/shepherd-example ./examples/systemd
//	cp examples/systemd/shepherd-example.service /etc/systemd/system/
//	systemctl daemon-reload && systemctl start shepherd-example
//	systemctl status shepherd-example   # the STATUS= line shows the tree
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/shepherd-go/shepherd"
)

// defaultShutdown is the budget shepherd-example.service is written
// against: TimeoutStopSec= must cover it and the second Main asks for
// beyond it (EXTEND_TIMEOUT_USEC). A test checks the two agree.
const defaultShutdown = 20 * time.Second

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	shutdown := flag.Duration("shutdown", defaultShutdown, "shutdown budget")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(*shutdown), shepherd.Logger(log))
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintln(w, "pong")
	})
	api := shepherd.HTTPServer(&http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second})
	sup.Add("api", api)
	sup.Add("announce", shepherd.ServiceFunc(func(ctx context.Context) error {
		_, err := fmt.Printf("listening on %s\n", api.Addr())
		return err
	}))
	os.Exit(shepherd.Main(sup))
}
