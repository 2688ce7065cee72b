package shepherd

import (
	"bufio"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
)

// FailOnHandlerPanic makes a panic (or runtime.Goexit) in a handler, or in
// the server's ConnState hook, a failure of the service: the request is
// still answered 500, then the server is closed at once, with its
// connections, and Run returns the *PanicError, so that the supervisor
// applies the service's restart policy or stops the tree. Without it a
// handler's panic is reported and counted, and the server serves on, as
// net/http does. It returns h, so that it can follow HTTPServer:
//
//	api := shepherd.HTTPServer(srv).FailOnHandlerPanic()
//
// Call it before the service runs: a panic in a request already being
// served may be handled either way.
func (h *HTTPService) FailOnHandlerPanic() *HTTPService {
	h.failOnPanic.Store(true)
	return h
}

// Panics returns how many handler calls of the server panicked or called
// runtime.Goexit (http.ErrAbortHandler excepted), and how many calls of
// its ConnState hook panicked, since it was made.
func (h *HTTPService) Panics() int64 { return h.panics.Load() }

// handlerPanic carries a panic that LabelHandler already turned into a
// *PanicError under its route's path up to the server's own recovery,
// which answers the request.
type handlerPanic struct{ err error }

func (p handlerPanic) Error() string { return p.err.Error() }

// recovering wraps the server's handler (http.DefaultServeMux if nil) so
// that a panic in it is reported as a *PanicError under the handler's
// path, counted, and answered 500. net/http on its own only logs the
// panic and drops the connection, so the tree never heard of it.
func (h *HTTPService) recovering(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &panicWriter{ResponseWriter: w}
		returned := false
		defer func() {
			if returned {
				return
			}
			rec := recover()
			if rec == http.ErrAbortHandler {
				panic(rec) // the handler's deliberate abort, not a failure
			}
			var err error
			if hp, ok := rec.(handlerPanic); ok {
				err = hp.err
			} else {
				err = exitError(h.pathOf(r), rec)
			}
			_, routeExit := rec.(*goexitReport)
			goexit := rec == nil || routeExit // the goroutine goes on exiting once this returns
			// Posted before the client hears of it, so a stop the client
			// starts next delivers it before Run returns. Sinks get it
			// from the tree's delivery goroutine, which may be behind:
			// one that hears of it after the 500 is not a lost report.
			h.failed(r.Context(), err)
			h.answer500(pw)
			if h.failOnPanic.Load() || goexit {
				// The server closes next, or runtime.Goexit goes on
				// unwinding past net/http, which then never finishes the
				// response: the answer must be on its way first.
				_ = http.NewResponseController(pw.ResponseWriter).Flush()
			}
			if h.failOnPanic.Load() {
				h.close()
			}
			if pw.wrote {
				// Part of a response went out: only dropping the
				// connection, as net/http does after a panic, tells the
				// client it is incomplete.
				panic(http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(pw, r)
		returned = true
	})
}

// answer500 answers the request with 500 unless a response was begun, and
// asks for the connection to be closed, as net/http closes it after a
// panic. The body has a length so the client reads it whole.
func (h *HTTPService) answer500(w *panicWriter) {
	if w.wrote {
		return
	}
	const body = "Internal Server Error\n"
	hdr := w.Header()
	for k := range hdr {
		delete(hdr, k) // whatever the handler set was for the answer it did not give
	}
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	hdr.Set("Connection", "close")
	w.ResponseWriter.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w.ResponseWriter, body)
}

// pathOf names the handler that failed: the request's scope (a
// LabelHandler route, or the service), else the service.
func (h *HTTPService) pathOf(r *http.Request) string {
	if s := scopeOf(r.Context()); s != nil {
		return s.path
	}
	return h.path()
}

func (h *HTTPService) path() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.scope != nil && h.scope.path != "" {
		return h.scope.path
	}
	return "HTTPServer"
}

// failed counts and reports the failure of a handler or hook. With
// FailOnHandlerPanic it is kept for Run to return, and its supervisor
// reports it, once the caller has closed the server; otherwise the tree's events report it, or, in a tree nobody listens
// to, the server's ErrorLog, as net/http would have.
func (h *HTTPService) failed(ctx context.Context, err error) {
	h.panics.Add(1)
	h.mu.Lock()
	sc := h.scope
	h.mu.Unlock()
	switch {
	case h.failOnPanic.Load():
		h.setFailErr(err) // the caller closes the server, and Run returns it
	case sc != nil && sc.ev != nil:
		sc.ev.failed(ctx, errPath(err), err)
	default:
		msg := "shepherd: HTTPServer: " + err.Error()
		if pe, ok := err.(*PanicError); ok {
			msg += "\n" + pe.Stack()
		}
		if l := h.srv.ErrorLog; l != nil {
			l.Print(msg)
		} else {
			log.Print(msg)
		}
	}
}

func (h *HTTPService) setFailErr(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failErr == nil {
		h.failErr = err
	}
}

// errPath is the path a handler's failure is reported under.
func errPath(err error) string {
	switch e := err.(type) {
	case *PanicError:
		return e.Task
	case *TaskError:
		return e.Path
	}
	return ""
}

// connStateHook wraps the server's ConnState hook: net/http calls it
// outside any recover, on the goroutine that accepts connections or serves
// one, so a panic in it would kill the process.
func (h *HTTPService) connStateHook(hook func(net.Conn, http.ConnState)) func(net.Conn, http.ConnState) {
	return func(c net.Conn, st http.ConnState) {
		defer func() {
			if r := recover(); r != nil {
				h.failed(context.Background(), newPanicError(h.path()+" (ConnState hook)", r))
				if h.failOnPanic.Load() {
					h.closeSoon()
				}
			}
		}()
		hook(c, st)
	}
}

// closeSoon closes the server from a goroutine of its own, which Run
// waits for: the ConnState hook of a new connection runs on the goroutine
// in Serve, and Close waits for Serve to return. Once the server is
// shut down, by this or by a stop, there is nothing left to close: the
// goroutine is started at most once, and before Serve returns.
func (h *HTTPService) closeSoon() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shutDown {
		return
	}
	h.shutDown = true
	h.closing.Go(func() { _ = h.srv.Close() })
}

// panicWriter notes whether the handler began its response, which decides
// whether a panic can still be answered 500. Unwrap lets
// http.ResponseController reach the connection's writer; the optional
// interfaces net/http's writers have are passed through.
type panicWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *panicWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.wrote = true // 1xx other than 101 are informational; the answer is still to come
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *panicWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *panicWriter) ReadFrom(r io.Reader) (int64, error) {
	w.wrote = true
	return io.Copy(w.ResponseWriter, r) // uses the writer's own ReadFrom (sendfile) when it has one
}

func (w *panicWriter) Flush() {
	w.wrote = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *panicWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.wrote = true // the connection is the handler's now; nothing can be answered on it
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *panicWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

func (w *panicWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
