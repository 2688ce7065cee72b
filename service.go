package shepherd

import (
	"context"
)

// A Service is a long-running part of a program: an HTTP server, a
// background loop, a worker pool, or a whole Supervisor.
//
// Run does the service's work until ctx is done, then returns. Returning nil
// means the service finished; returning an error means it failed. Errors
// that only echo ctx's cancellation are not failures. A Run that cannot
// watch ctx (one blocked in a library call) must also implement Stopper.
type Service interface {
	Run(ctx context.Context) error
}

// A Stopper is a Service whose Run does not return on its own when its
// context is done, such as an http.Server blocked in Serve.
//
// When a Supervisor stops a Stopper, it calls Stop with a context whose
// deadline is the remaining shutdown budget, and cancels the context of Run
// only after Stop returned or the budget ran out, so a server can drain its
// in-flight requests first. Stop should make Run return, and may block until
// the service has drained or ctx is done.
type Stopper interface {
	Stop(ctx context.Context) error
}

// ServiceFunc adapts a function to the Service interface. The service is
// ready as soon as its goroutine is started, so the next service may begin
// before this one's first statement runs; use ReadyFunc when the next
// service must wait for this one to prepare, or to finish.
type ServiceFunc func(ctx context.Context) error

// Run calls f(ctx).
func (f ServiceFunc) Run(ctx context.Context) error { return f(ctx) }

// A ReadySignaler is a Service that tells its Supervisor when it is ready to
// take work by calling Ready from Run. The Supervisor starts the next
// service only once that happened (or Run returned, or the start timeout
// passed). Services that are not ReadySignalers are ready as soon as their
// goroutine is started.
//
// HTTP servers made by HTTPServer are ready once their listener is bound,
// Pools once their workers run, and Supervisors once all their services are
// ready.
type ReadySignaler interface {
	Service
	// SignalsReady reports whether Run will call Ready.
	SignalsReady() bool
}

// ReadyFunc adapts a function that calls Ready(ctx) once it is ready to
// the Service and ReadySignaler interfaces.
type ReadyFunc func(ctx context.Context) error

// Run calls f(ctx).
func (f ReadyFunc) Run(ctx context.Context) error { return f(ctx) }

// SignalsReady reports true: f promises to call Ready.
func (f ReadyFunc) SignalsReady() bool { return true }

// Ready tells the Supervisor running the service that owns ctx that the
// service is ready, letting the next service start. Calling it more than
// once, or with a context that no Supervisor gave, does nothing.
func Ready(ctx context.Context) {
	if r, ok := ctx.Value(runKey{}).(*run); ok {
		r.signalReady()
	}
}

func signalsReady(svc Service) bool {
	r, ok := svc.(ReadySignaler)
	return ok && r.SignalsReady()
}
