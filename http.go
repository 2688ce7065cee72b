package shepherd

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
)

// HTTPService runs an *http.Server as a Service. Make one with HTTPServer.
type HTTPService struct {
	srv *http.Server
	ln  net.Listener // set by UseListener; else bound in Run

	mu       sync.Mutex
	addr     net.Addr
	shutDown bool            // an earlier run shut the server down; it cannot serve again
	base     context.Context // the current run's context, without its cancellation
	scope    *scope          // the current run's place in the tree, for reporting handler panics
	failErr  error           // with FailOnHandlerPanic, the first handler failure, which Run returns
	closing  sync.WaitGroup  // closes a ConnState hook's failure started, which Run waits for

	failOnPanic atomic.Bool // set by FailOnHandlerPanic, before the server runs
	panics      atomic.Int64
}

// HTTPServer returns a Service that runs srv. Run binds srv.Addr (":http"
// if empty) first, so a port already in use is a start failure that stops
// the supervisor before later services start; it is ready once bound, then
// serves. When the supervisor stops it, Stop calls srv.Shutdown with the
// remaining shutdown budget, which closes the listener and waits for
// in-flight requests; if the budget runs out first, the remaining
// connections are closed. http.ErrServerClosed is not a failure.
//
// Handler goroutines inherit the service's pprof label, so a stuck report
// names the handler that would not finish. Unless srv.BaseContext is set,
// request contexts carry the service's path too (not its cancellation), so
// a Group a handler creates from r.Context() names its tasks below the
// service, and LabelHandler can name a route.
//
// A panic in a handler is reported as a *PanicError under the handler's
// path (the service's, or its LabelHandler route's) through the tree's
// Logger and OnEvent, and counted (Panics); the request is answered 500
// and its connection closed, unless the handler had begun its response,
// whose connection is dropped, as net/http does after a panic. The server
// serves on unless FailOnHandlerPanic was called. A panic in srv.ConnState
// is reported and counted the same way instead of killing the process.
// HTTPServer wraps srv.Handler and srv.ConnState to do this, so set them
// before calling it.
//
// Outside a Supervisor (say, as a Group task), Run closes the server
// abruptly when its context is done: only a Supervisor's Stop drains.
func HTTPServer(srv *http.Server) *HTTPService {
	if srv == nil {
		panic("shepherd: HTTPServer(nil): pass the *http.Server to run")
	}
	return newHTTPService(srv)
}

// UseListener makes the service serve on ln, which the caller has bound
// already, instead of binding srv.Addr: the service is ready at once when
// it runs, Addr reports ln's address, and ln is closed when the service
// stops. It returns h, so that it can follow HTTPServer:
//
//	api := shepherd.HTTPServer(srv).UseListener(ln)
//
// Call it before the service runs; it panics if ln is nil or the service
// has run.
func (h *HTTPService) UseListener(ln net.Listener) *HTTPService {
	if ln == nil {
		panic("shepherd: HTTPService.UseListener(nil): pass the bound net.Listener, or leave the call out to bind srv.Addr")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.base != nil || h.shutDown {
		panic("shepherd: HTTPService.UseListener after the service ran: call it on the service HTTPServer returns, before Run")
	}
	h.ln, h.addr = ln, ln.Addr()
	return h
}

func newHTTPService(srv *http.Server) *HTTPService {
	h := &HTTPService{srv: srv}
	if srv.BaseContext == nil {
		srv.BaseContext = h.baseContext
	}
	next := srv.Handler
	if next == nil {
		next = http.DefaultServeMux
	}
	srv.Handler = h.recovering(next)
	if srv.ConnState != nil {
		srv.ConnState = h.connStateHook(srv.ConnState)
	}
	return h
}

func (h *HTTPService) baseContext(net.Listener) context.Context {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.base == nil {
		return context.Background()
	}
	return h.base
}

// Addr returns the address the server listens on, or nil before it is
// bound. With srv.Addr ":0" it tells which port the system chose.
func (h *HTTPService) Addr() net.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.addr
}

// signalsReady reports true: the service is ready once its listener is
// bound.
func (h *HTTPService) signalsReady() bool { return true }

// Run binds the listener, signals readiness and serves until the server is
// shut down or ctx is done.
func (h *HTTPService) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.shutDown {
		h.mu.Unlock()
		return errServedOnce
	}
	h.base = context.WithoutCancel(ctx)
	h.scope = scopeOf(ctx)
	ln := h.ln
	h.mu.Unlock()
	if ln == nil {
		addr := h.srv.Addr
		if addr == "" {
			addr = ":http"
		}
		var err error
		if ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", addr); err != nil {
			return err
		}
		h.mu.Lock()
		h.addr = ln.Addr()
		h.mu.Unlock()
	}
	Ready(ctx)
	stop := context.AfterFunc(ctx, func() { h.close() })
	defer stop()
	err := h.srv.Serve(ln)
	h.closing.Wait()
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failErr
}

// errServedOnce is what a restarted HTTPService returns: the standard
// library's server refuses to serve after Shutdown or Close, so restarting
// it would only look like it worked.
var errServedOnce = errors.New("shepherd: HTTPServer: this *http.Server was shut down by an earlier run and cannot serve again; " +
	"to restart a server, run a service that makes a new *http.Server each time")

func (h *HTTPService) close() {
	h.mu.Lock()
	h.shutDown = true
	h.mu.Unlock()
	_ = h.srv.Close()
}

// Stop shuts the server down gracefully, waiting for in-flight requests
// until ctx is done; then it closes the connections still open and returns
// ctx's error.
func (h *HTTPService) Stop(ctx context.Context) error {
	h.mu.Lock()
	h.shutDown = true
	h.mu.Unlock()
	err := h.srv.Shutdown(ctx)
	if err != nil {
		_ = h.srv.Close()
	}
	return err
}

// LabelHandler names a route of a server run by HTTPServer: h serves each
// request with the path of the server's service followed by name (say
// "app/api/leak" for LabelHandler("leak", h) in the service "app/api"),
// both in the request's context, so a Group created from r.Context() names
// its tasks below it, and in the pprof label of the goroutine serving the
// request while h runs, so goroutines h starts with a plain go statement
// are attributed to the route in goroutine profiles, stuck reports and
// DebugHandler. The connection's goroutine gets the server's label back
// when h returns.
//
// When the request's context carries no shepherd path (the server is not
// run by HTTPServer, or it sets its own BaseContext), h is called as is.
// Each request through LabelHandler costs about half a microsecond and 500
// bytes in 6 allocations, for its context and a shallow copy of the
// request (BenchmarkLabelHandler).
//
// LabelHandler panics if name is empty or contains "/", or if h is nil.
func LabelHandler(name string, h http.Handler) http.Handler {
	switch {
	case name == "" || strings.Contains(name, "/"):
		panic("shepherd: LabelHandler(" + quote(name) + "): a route name must be non-empty and contain no \"/\"; it becomes part of the path")
	case h == nil:
		panic("shepherd: LabelHandler(" + quote(name) + ", nil): pass the handler to serve the route")
	}
	// Requests of one server run share their parent scope, so the route's
	// scope is built once per run, not per request.
	type route struct{ parent, own *scope }
	var last atomic.Pointer[route]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := scopeOf(r.Context())
		if s == nil {
			h.ServeHTTP(w, r)
			return
		}
		rt := last.Load()
		if rt == nil || rt.parent != s {
			rt = &route{parent: s, own: &scope{path: joinPath(s.path, name), ev: s.ev, cap: s.cap}}
			last.Store(rt)
		}
		ctx := pprof.WithLabels(r.Context(), pprof.Labels(labelPath, rt.own.path))
		ctx = context.WithValue(ctx, scopeKey{}, rt.own)
		setLabels(ctx)
		defer setLabels(r.Context())
		returned := false
		defer nameRoutePanic(rt.own.path, &returned)
		h.ServeHTTP(w, r.WithContext(ctx))
		returned = true
	})
}

// nameRoutePanic, deferred by LabelHandler, turns a panic in the route's
// handler into a *PanicError under the route's path, while the panicking
// frames are still on the stack, and passes it on to the server's
// recovery (see HTTPServer), which answers the request. A runtime.Goexit
// (the handler did not return, and nothing panics) is handed on the same
// way, as a goexitReport naming the route: the server's recovery only
// sees the request it was given, whose context names the service.
func nameRoutePanic(path string, returned *bool) {
	r := recover()
	switch r.(type) {
	case nil:
		if !*returned {
			panic(&goexitReport{err: exitError(path, nil)})
		}
		return
	case handlerPanic, *goexitReport: // a LabelHandler nested inside named it already
		panic(r)
	}
	if r == http.ErrAbortHandler {
		panic(r)
	}
	panic(handlerPanic{newPanicError(path, r)})
}
