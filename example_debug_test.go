package shepherd_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/shepherd-go/shepherd"
)

// The debug page of a tree whose sync service failed. A program mounts
// DebugHandler on its debug server, bound to localhost; here a recorder
// stands in for the browser, reading the JSON form.
func ExampleDebugHandler() {
	sup := shepherd.NewSupervisor("app")
	sup.Add("migrate", shepherd.ServiceFunc(func(ctx context.Context) error { return nil }))
	sup.Add("sync", shepherd.ServiceFunc(func(ctx context.Context) error { return errors.New("upstream gone") }))
	_ = sup.Run(context.Background())

	debugMux := http.NewServeMux()
	debugMux.Handle("/debug/shepherd", shepherd.DebugHandler(sup))

	rec := httptest.NewRecorder()
	debugMux.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/shepherd?format=json&goroutines=0", nil))
	type node struct {
		Path, Kind, State string
		LastErr           string `json:"last_error"`
		Children          []node
	}
	var page struct{ Roots []node }
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		fmt.Println(err)
		return
	}
	var show func(n node)
	show = func(n node) {
		if n.LastErr != "" {
			n.State += ": " + n.LastErr
		}
		fmt.Println(n.Path, n.Kind, n.State)
		for _, c := range n.Children {
			show(c)
		}
	}
	show(page.Roots[0])
	// Output:
	// app supervisor failed: task "app/sync": upstream gone
	// app/migrate service stopped
	// app/sync service failed: task "app/sync": upstream gone
}

// A route named with LabelHandler: the request's context carries the
// route's path, and so do the pprof labels of any goroutine the handler
// starts, which is how the debug page and stuck reports attribute them.
func ExampleLabelHandler() {
	mux := http.NewServeMux()
	mux.Handle("/report", shepherd.LabelHandler("report", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fmt.Fprint(w, shepherd.Path(r.Context())); err != nil {
			return // the client has gone: there is nobody to answer
		}
	})))
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: mux})

	ctx, stop := context.WithCancel(context.Background())
	sup := shepherd.NewSupervisor("app")
	sup.Add("api", api)
	sup.Add("client", shepherd.ServiceFunc(func(ctx context.Context) error {
		defer stop()
		resp, err := http.Get("http://" + api.Addr().String() + "/report")
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		if err := errors.Join(err, resp.Body.Close()); err != nil {
			return err
		}
		fmt.Println(string(body))
		return nil
	}))
	fmt.Println("Run:", sup.Run(ctx))
	// Output:
	// app/api/report
	// Run: <nil>
}
