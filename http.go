package shepherd

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
)

// HTTPService runs an *http.Server as a Service. Make one with HTTPServer
// or HTTPServerListener.
type HTTPService struct {
	srv *http.Server
	ln  net.Listener // set by HTTPServerListener; else bound in Run

	mu   sync.Mutex
	addr net.Addr
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
// names the handler that would not finish.
//
// Outside a Supervisor (say, as a Group task), Run closes the server
// abruptly when its context is done: only a Supervisor's Stop drains.
func HTTPServer(srv *http.Server) *HTTPService {
	if srv == nil {
		panic("shepherd: HTTPServer(nil): pass the *http.Server to run")
	}
	return &HTTPService{srv: srv}
}

// HTTPServerListener is like HTTPServer but serves on ln, which the caller
// has bound already; the service is ready at once and closes ln when it
// stops.
func HTTPServerListener(srv *http.Server, ln net.Listener) *HTTPService {
	if srv == nil || ln == nil {
		panic("shepherd: HTTPServerListener: pass a non-nil *http.Server and net.Listener")
	}
	return &HTTPService{srv: srv, ln: ln, addr: ln.Addr()}
}

// Addr returns the address the server listens on, or nil before it is
// bound. With srv.Addr ":0" it tells which port the system chose.
func (h *HTTPService) Addr() net.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.addr
}

// SignalsReady reports true: the service is ready once its listener is
// bound.
func (h *HTTPService) SignalsReady() bool { return true }

// Run binds the listener, signals readiness and serves until the server is
// shut down or ctx is done.
func (h *HTTPService) Run(ctx context.Context) error {
	ln := h.ln
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
	stop := context.AfterFunc(ctx, func() { h.srv.Close() })
	defer stop()
	if err := h.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Stop shuts the server down gracefully, waiting for in-flight requests
// until ctx is done; then it closes the connections still open and returns
// ctx's error.
func (h *HTTPService) Stop(ctx context.Context) error {
	err := h.srv.Shutdown(ctx)
	if err != nil {
		h.srv.Close()
	}
	return err
}
