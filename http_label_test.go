package shepherd_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/shepherdtest"
)

//go:noinline
func blockedInRoute(release chan struct{}) { <-release }

//go:noinline
func blockedInPlainRoute(release chan struct{}) { <-release }

// TestLabelHandlerNamesRoute serves a labelled route and a plain one on
// one keep-alive connection: goroutines and Groups started by the
// labelled route are named after it, and the connection's goroutine is
// the server's again for the next request.
func TestLabelHandlerNamesRoute(t *testing.T) {
	defer shepherdtest.VerifyNone(t)
	leaked := make(chan struct{})
	plain := make(chan struct{})
	paths := make(chan string, 3)
	mux := http.NewServeMux()
	mux.Handle("/report", shepherd.LabelHandler("report", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- shepherd.Path(r.Context())
		go blockedInRoute(leaked)
		g := shepherd.NewGroup(r.Context())
		g.Go("send", func(ctx context.Context) error { paths <- shepherd.Path(ctx); return nil })
		if err := g.Wait(); err != nil {
			t.Error(err)
		}
		_, _ = fmt.Fprint(w, "ok")
	})))
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		paths <- shepherd.Path(r.Context())
		blockedInPlainRoute(plain)
	})
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: mux, ReadHeaderTimeout: 5 * time.Second})
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(5*time.Second))
	sup.Add("api", api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	eventually(t, func() bool { return api.Addr() != nil })

	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	call := func(route string) {
		resp, err := client.Get("http://" + api.Addr().String() + route)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	call("/report")
	for _, want := range []string{"app/api/report", "app/api/report/send"} {
		if got := <-paths; got != want {
			t.Errorf("Path = %q; want %q", got, want)
		}
	}
	// The goroutine may not have reached blockedInRoute yet.
	eventually(t, func() bool { return ownerOf("blockedInRoute") == "app/api/report" })
	plainDone := make(chan struct{})
	go func() { call("/plain"); close(plainDone) }()
	if got := <-paths; got != "app/api" {
		t.Errorf("Path in a plain route = %q; want \"app/api\"", got)
	}
	eventually(t, func() bool { return ownerOf("blockedInPlainRoute") == "app/api" })
	close(plain)
	<-plainDone
	close(leaked)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLabelHandlerOutsideShepherd(t *testing.T) {
	called := false
	h := shepherd.LabelHandler("x", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = shepherd.Path(r.Context()) == ""
	}))
	get(t, h, "GET", "/")
	if !called {
		t.Fatal("LabelHandler outside a shepherd server did not call the handler as is")
	}
}

func TestLabelHandlerMisuse(t *testing.T) {
	ok := http.NotFoundHandler()
	for _, c := range []struct {
		fn   func()
		want string
	}{
		{func() { shepherd.LabelHandler("", ok) }, `shepherd: LabelHandler(""): a route name must be non-empty and contain no "/"; it becomes part of the path`},
		{func() { shepherd.LabelHandler("a/b", ok) }, `shepherd: LabelHandler("a/b"): a route name must be non-empty and contain no "/"; it becomes part of the path`},
		{func() { shepherd.LabelHandler("leak", nil) }, `shepherd: LabelHandler("leak", nil): pass the handler to serve the route`},
	} {
		if got := mustPanic(t, c.fn); got != c.want {
			t.Errorf("panic = %q; want %q", got, c.want)
		}
	}
}

// BenchmarkLabelHandler measures what LabelHandler adds to a request: run
// with -benchmem and compare the two.
func BenchmarkLabelHandler(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"plain", noop}, {"labelled", shepherd.LabelHandler("route", noop)}} {
		b.Run(c.name, func(b *testing.B) {
			// A task's context stands in for the one HTTPServer gives requests.
			g := shepherd.NewGroup(context.Background())
			g.Go("api", func(ctx context.Context) error {
				r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
				w := httptest.NewRecorder()
				b.ReportAllocs()
				for b.Loop() {
					c.h.ServeHTTP(w, r)
				}
				return nil
			})
			_ = g.Wait()
		})
	}
}
