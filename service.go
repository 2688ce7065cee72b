package shepherd

import (
	"context"
	"time"
)

// A Service is a long-running part of a program: an HTTP server, a
// background loop, a worker pool, or a whole Supervisor.
//
// Run does the service's work until ctx is done, then returns. Returning nil
// means the service finished; returning an error means it failed. Errors
// that only echo ctx's cancellation are not failures. A Run that cannot
// watch ctx (one blocked in a library call) must also implement Stopper.
// Once Run returns on its own, ctx is cancelled, as errgroup's is once
// Wait returns: goroutines that Run started and left watching ctx stop
// then, and a restart runs with a new ctx. A Run asked to stop keeps ctx
// until the stop cancels it (for a Stopper, once Stop returned).
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
// before this one's first statement runs; add it with AwaitReady, and call
// Ready from it, when the next service must wait for this one to prepare,
// or to finish.
type ServiceFunc func(ctx context.Context) error

// Run calls f(ctx).
func (f ServiceFunc) Run(ctx context.Context) error { return f(ctx) }

// Ready tells the Supervisor running the service that owns ctx that the
// service is ready, letting the next service start. Calling it more than
// once, or with a context that no Supervisor gave, does nothing.
func Ready(ctx context.Context) {
	if r, ok := ctx.Value(runKey{}).(*run); ok {
		r.signalReady()
	}
}

// readySignaler is a built-in service that calls Ready from Run:
// HTTPServer once bound, Pool once its workers run, Supervisor once all its
// services are ready. The method is unexported so that only this package
// implements it; a user's service says it signals with AwaitReady.
type readySignaler interface {
	signalsReady() bool
}

// readyTimeout returns how long the supervisor waits for svc to call
// Ready, 0 if it does not wait.
func readyTimeout(svc Service, cfg serviceConfig) time.Duration {
	if cfg.await > 0 {
		return cfg.await
	}
	if r, ok := svc.(readySignaler); ok && r.signalsReady() {
		return builtinReadyTimeout
	}
	return 0
}
