package shepherd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/shepherdtest"
)

// panicky serves routes that fail in each way a handler can.
func panicky() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/boom", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Half-Done", "yes") // must not leak into the 500
		panic("boom")
	})
	mux.Handle("/route", shepherd.LabelHandler("route", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(errors.New("route boom"))
	})))
	mux.Handle("/route/goexit", shepherd.LabelHandler("route", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runtime.Goexit()
	})))
	mux.HandleFunc("/partial", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, "partial")
		_ = http.NewResponseController(w).Flush()
		panic("after the headers")
	})
	mux.HandleFunc("/goexit", func(w http.ResponseWriter, r *http.Request) { runtime.Goexit() })
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	return mux
}

// httpEvents collects the events of a tree for a test to wait on. Events
// reach OnEvent from the tree's delivery goroutine, which may deliver a
// handler's report after the client has its 500: a test waits for them,
// bounded, never looks once.
type httpEvents struct {
	mu     sync.Mutex
	events []shepherd.Event
}

func (l *httpEvents) add(e shepherd.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// await polls until cond holds for the events so far, and fails the test
// after 10s, naming what it waited for.
func (l *httpEvents) await(t *testing.T, what string, cond func([]shepherd.Event) bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		ok := cond(l.events)
		evs := slices.Clone(l.events)
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("no %s within 10s; events %v", what, evs)
		}
	}
}

// panicked waits for the n-th panic event reported for path and returns
// its *PanicError.
func (l *httpEvents) panicked(t *testing.T, path string, n int) *shepherd.PanicError {
	t.Helper()
	var pe *shepherd.PanicError
	l.await(t, fmt.Sprintf("panic event #%d for %q", n, path), func(evs []shepherd.Event) bool {
		seen := 0
		for _, e := range evs {
			if e.State == shepherd.StateFailed && e.Path == path && errors.As(e.Err, &pe) {
				if seen++; seen == n {
					return true
				}
			}
		}
		return false
	})
	return pe
}

// failed waits for a failure event for path whose error is target.
func (l *httpEvents) failed(t *testing.T, path string, target error) {
	t.Helper()
	l.await(t, fmt.Sprintf("failure event for %q with %v", path, target), func(evs []shepherd.Event) bool {
		for _, e := range evs {
			if e.State == shepherd.StateFailed && e.Path == path && errors.Is(e.Err, target) {
				return true
			}
		}
		return false
	})
}

func runServer(t *testing.T, sup *shepherd.Supervisor, api *shepherd.HTTPService) (stop func() error) {
	t.Helper()
	sup.Add("api", api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error { once.Do(func() { cancel(); err = <-done }); return err }
	// A test that fails before it calls stop must not leave its server to
	// the tests after it.
	t.Cleanup(func() { _ = stop() })
	eventually(t, func() bool { return api.Addr() != nil })
	return stop
}

func TestHTTPHandlerPanicIsReportedAndAnswered500(t *testing.T) {
	defer shepherdtest.VerifyNone(t)
	var evs httpEvents
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: panicky(), ReadHeaderTimeout: 5 * time.Second})
	stop := runServer(t, shepherd.NewSupervisor("app", shepherd.OnEvent(evs.add)), api)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	base := "http://" + api.Addr().String()

	for _, c := range []struct{ route, path, value string }{
		{"/boom", "app/api", "boom"},
		{"/route", "app/api/route", "route boom"},
	} {
		resp, err := client.Get(base + c.route)
		if err != nil {
			t.Fatalf("GET %s: %v", c.route, err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != 500 || string(body) != "Internal Server Error\n" || !resp.Close || resp.Header.Get("X-Half-Done") != "" {
			t.Errorf("GET %s = %d %q (err %v, Close %v, header %v); want 500 \"Internal Server Error\\n\", connection closed, no header of the handler's",
				c.route, resp.StatusCode, body, err, resp.Close, resp.Header)
		}
		pe := evs.panicked(t, c.path, 1)
		if fmt.Sprint(pe.Value) != c.value || pe.Task != c.path || !strings.Contains(pe.Stack(), "http_panic_test.go") {
			t.Errorf("GET %s: PanicError{Task %q, Value %v}, stack:\n%s\nwant the task %q, value %q, the handler's frame", c.route, pe.Task, pe.Value, pe.Stack(), c.path, c.value)
		}
	}

	// runtime.Goexit in a handler (a t.FailNow in a test server) is
	// answered and reported too.
	if resp, err := client.Get(base + "/goexit"); err != nil || resp.StatusCode != 500 {
		t.Errorf("GET /goexit = %v, %v; want 500", resp, err)
	} else {
		_ = resp.Body.Close() // answered in full: nothing of it is left to fail
	}
	evs.failed(t, "app/api", shepherd.ErrGoexit)
	// In a LabelHandler route, under the route's path.
	if resp, err := client.Get(base + "/route/goexit"); err != nil || resp.StatusCode != 500 {
		t.Errorf("GET /route/goexit = %v, %v; want 500", resp, err)
	} else {
		_ = resp.Body.Close()
	}
	evs.failed(t, "app/api/route", shepherd.ErrGoexit)

	// Headers already sent: the client must learn the answer is cut short.
	if resp, err := client.Get(base + "/partial"); err == nil {
		_, err = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err == nil {
			t.Errorf("GET /partial: read the whole body of a response whose handler panicked midway; want the connection dropped")
		}
	}
	if pe := evs.panicked(t, "app/api", 2); fmt.Sprint(pe.Value) != "after the headers" {
		t.Errorf("GET /partial: second panic of app/api is %v; want the handler's", pe.Value)
	}
	// http.ErrAbortHandler is the handler's way to drop a connection, not a failure.
	if _, err := client.Get(base + "/abort"); err == nil {
		t.Error("GET /abort: got a response; want the connection dropped")
	}
	resp, err := client.Get(base + "/ok")
	if err != nil {
		t.Fatalf("GET /ok after panics: %v; the server must serve on", err)
	}
	_ = resp.Body.Close()
	if got := api.Panics(); got != 5 {
		t.Errorf("Panics() = %d; want 5 (boom, route, goexit, route goexit, partial; not the abort)", got)
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v; want nil: handler panics do not fail the server unless asked", err)
	}
}

// TestHTTPRoutePanicReachesSlowSink forces the interleaving that made
// TestHTTPHandlerPanicIsReportedAndAnswered500 flake when it looked for
// the report once, right after the 500: the sink is held until the client
// has its answer, so the report is delivered after it. The answer must
// not wait for the sink, and the report must come, under the route.
func TestHTTPRoutePanicReachesSlowSink(t *testing.T) {
	defer shepherdtest.VerifyNone(t)
	var evs httpEvents
	gate := make(chan struct{})
	hook := func(e shepherd.Event) {
		if _, ok := e.Err.(*shepherd.PanicError); ok && e.State == shepherd.StateFailed {
			<-gate
		}
		evs.add(e)
	}
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: panicky(), ReadHeaderTimeout: 5 * time.Second})
	stop := runServer(t, shepherd.NewSupervisor("app", shepherd.OnEvent(hook)), api)
	var opened sync.Once
	open := func() { opened.Do(func() { close(gate) }) }
	t.Cleanup(open) // runs before runServer's stop, which delivers what is queued
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	resp, err := client.Get("http://" + api.Addr().String() + "/route")
	if err != nil {
		t.Fatalf("GET /route with the sink held: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("GET /route = %d; want 500", resp.StatusCode)
	}
	open()
	if pe := evs.panicked(t, "app/api/route", 1); pe.Task != "app/api/route" || fmt.Sprint(pe.Value) != "route boom" {
		t.Errorf("PanicError{Task %q, Value %v}; want the route's", pe.Task, pe.Value)
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v; want nil", err)
	}
}

func TestHTTPHandlerPanicFailsServerWhenAsked(t *testing.T) {
	defer shepherdtest.VerifyNone(t)
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: panicky(), ReadHeaderTimeout: 5 * time.Second}).FailOnHandlerPanic()
	stop := runServer(t, shepherd.NewSupervisor("app"), api)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + api.Addr().String() + "/route")
	if err != nil {
		t.Fatalf("GET /route: %v; want a 500 before the server closes", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("GET /route = %d; want 500", resp.StatusCode)
	}
	err = stop()
	var pe *shepherd.PanicError
	if !errors.As(err, &pe) || pe.Task != "app/api/route" {
		t.Fatalf("Run = %v; want the handler's *PanicError for app/api/route", err)
	}
}

// TestHTTPFailOnHandlerPanicClosesTheServer: with FailOnHandlerPanic the
// server closes at once and Run returns the panic by itself, so that the
// restart policy or the tree's stop takes over; nobody needs to cancel it.
// Also for a panic in the ConnState hook.
func TestHTTPFailOnHandlerPanicClosesTheServer(t *testing.T) {
	defer shepherdtest.VerifyNone(t)
	for _, tc := range []struct {
		name, route, value string
		connState          func(net.Conn, http.ConnState)
	}{
		{"handler", "/boom", "boom", nil},
		{"ConnState hook", "/ok", "conn hook", func(net.Conn, http.ConnState) { panic("conn hook") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &http.Server{Addr: "127.0.0.1:0", Handler: panicky(), ReadHeaderTimeout: 5 * time.Second, ConnState: tc.connState}
			api := shepherd.HTTPServer(srv).FailOnHandlerPanic()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- api.Run(ctx) }()
			eventually(t, func() bool { return api.Addr() != nil })
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			if resp, err := client.Get("http://" + api.Addr().String() + tc.route); err == nil {
				_ = resp.Body.Close() // a 500, or for the hook none: the server closes either way
			}
			select {
			case err := <-done:
				var pe *shepherd.PanicError
				if !errors.As(err, &pe) || fmt.Sprint(pe.Value) != tc.value {
					t.Errorf("Run = %v; want the *PanicError of %q", err, tc.value)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run still serving 10s after the panic; want the server closed at once and the panic returned")
			}
		})
	}
}

// TestHTTPConnStatePanicDoesNotCrash: net/http calls ConnState outside
// its recover, so before HTTPServer wrapped it this test killed the test
// binary.
func TestHTTPConnStatePanicDoesNotCrash(t *testing.T) {
	defer shepherdtest.VerifyNone(t)
	var evs httpEvents
	srv := &http.Server{Addr: "127.0.0.1:0", Handler: panicky(), ReadHeaderTimeout: 5 * time.Second,
		ConnState: func(c net.Conn, st http.ConnState) {
			if st == http.StateNew || st == http.StateActive {
				panic("conn hook " + st.String())
			}
		}}
	api := shepherd.HTTPServer(srv)
	stop := runServer(t, shepherd.NewSupervisor("app", shepherd.OnEvent(evs.add)), api)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + api.Addr().String() + "/ok")
	if err != nil {
		t.Fatalf("GET /ok: %v", err)
	}
	_ = resp.Body.Close()
	if pe := evs.panicked(t, "app/api (ConnState hook)", 1); !strings.HasPrefix(fmt.Sprint(pe.Value), "conn hook ") {
		t.Errorf("ConnState panic reported as %v; want a *PanicError for \"app/api (ConnState hook)\"", pe)
	}
	if got := api.Panics(); got != 2 {
		t.Errorf("Panics() = %d; want 2 (new and active)", got)
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v; want nil", err)
	}
}

// TestHTTPHandlerPanicWithoutListeners: in a tree with no Logger or
// OnEvent, the panic still reaches the server's ErrorLog, with its stack,
// as it did when net/http logged it.
func TestHTTPHandlerPanicWithoutListeners(t *testing.T) {
	defer shepherdtest.VerifyNone(t)
	var buf lockedBuffer
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: panicky(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(&buf, "", 0)})
	stop := runServer(t, shepherd.NewSupervisor("app"), api)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + api.Addr().String() + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, `shepherd: HTTPServer: task "app/api" panicked: boom`) || !strings.Contains(got, "http_panic_test.go") {
		t.Errorf("ErrorLog got %q; want the panic and its stack", got)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// BenchmarkHTTPRecovering measures what HTTPServer's panic recovery adds
// to a request: run with -benchmem and compare the two.
func BenchmarkHTTPRecovering(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	srv := &http.Server{Handler: noop}
	shepherd.HTTPServer(srv)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"plain", noop}, {"recovering", srv.Handler}} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(w, r)
			}
		})
	}
}
