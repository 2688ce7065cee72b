package shepherd

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/shepherd-go/shepherd/goroutines"
)

// An Event reports that a task or service entered a State: it is passed
// to the function given to OnEvent, and logged by Logger. A Supervisor
// reports each state its services pass through, in order: StateStarting
// (Run is about to be called), StateRunning (ready), StateStopping (asked
// to stop), StateStopped (Run returned without failing: on its own, or
// after a stop request, as Requested says), StateFailed (Run returned an
// error or panicked: a panic's Err is a *PanicError), StateStuck (it did
// not return within the shutdown budget), StateRestarting (it starts
// again after Delay) and, for a stopping root supervisor waiting out its
// DrainDelay, StateDraining. Groups and Pools report only StateFailed.
//
// One event is not a change of state: when a GoroutineSampler finds a
// node past its MaxGoroutines, it reports the node's current state with
// Err a *goroutines.LimitError.
type Event struct {
	// State is the state the task or service entered.
	State State
	// Path names the task or service, such as "app/api".
	Path string
	// Time is when the event happened.
	Time time.Time
	// Err is the failure for StateFailed and StateStuck, the failure being
	// recovered from for StateRestarting, and for StateStopped, an error
	// wrapping ErrDoNotRestart or ErrStopTree that ended the service, if
	// one did.
	Err error
	// Requested is true for StateStopped when the service returned after a
	// stop request, false when it returned on its own.
	Requested bool
	// Attempt counts the restarts of the service so far; 0 for its first run.
	Attempt int
	// Delay is, for StateRestarting, how long the supervisor waits before
	// starting the service again, and for StateDraining, the DrainDelay.
	Delay time.Duration
}

// name is the word the Logger logs for e: the state's name, except where
// the state hides a distinction worth a word of its own.
func (e Event) name() string {
	var over *goroutines.LimitError
	switch {
	case errors.As(e.Err, &over):
		return "goroutine limit"
	case e.State == StateRunning:
		return "ready"
	case e.State == StateStopped && !e.Requested:
		return "exited"
	case e.State == StateFailed && isPanic(e.Err):
		return "panicked"
	}
	return e.State.String()
}

// isPanic reports whether err is a panic: a *PanicError.
func isPanic(err error) bool {
	_, ok := err.(*PanicError)
	return ok
}

// events is where a tree reports what happens in it: the sinks (a Logger
// and an OnEvent hook), who answers for each, and the queue that delivers
// to them. The zero of *events (nil) discards everything, which keeps the
// hot path free of checks.
//
// Events are posted, never delivered on the caller's goroutine: the sinks
// are user code, and a slow, blocked, panicking or exiting sink must not
// take a supervisor's loop, a Group task or a Pool worker with it.
type events struct {
	log  *slog.Logger
	hook func(Event)
	// logOwner and hookOwner are the supervisors that set log and hook: a
	// sink that panics or calls runtime.Goexit fails the supervisor that
	// set it, as a panic anywhere else in its tree would.
	logOwner, hookOwner *Supervisor
	q                   *deliverer
}

// emit posts e, about the task or service whose context is ctx, for
// delivery. ctx is what the Logger's handler receives (trace ids and other
// values travel in it); it may be nil.
func (ev *events) emit(ctx context.Context, e Event) {
	if ev == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	ev.q.post(delivery{ctx: ctx, e: e})
}

// failed posts the failure of the task at path whose context is ctx. A
// failure that only echoes the cancellation of ctx (a stop that cut the
// task short) is logged at Info: the stop is not an error.
func (ev *events) failed(ctx context.Context, path string, err error) {
	ev.failedAt(ctx, path, err, time.Time{})
}

// failedAt is failed for a failure that happened at now, when the caller
// has read the clock already (zero: read it).
func (ev *events) failedAt(ctx context.Context, path string, err error, now time.Time) {
	if ev == nil {
		return
	}
	quiet := !isPanic(err) && ctx != nil && echoes(ctx, err)
	if now.IsZero() {
		now = time.Now()
	}
	ev.q.post(delivery{ctx: ctx, e: Event{State: StateFailed, Path: path, Err: err, Time: now}, quiet: quiet})
}

// logs reports whether a Logger listens.
func (ev *events) logs() bool { return ev != nil && ev.log != nil }

// logAttrs posts a log line that is not an Event, such as a Pool's
// counters, for the Logger alone.
func (ev *events) logAttrs(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if !ev.logs() {
		return
	}
	ev.q.post(delivery{ctx: ctx, msg: msg, level: level, attrs: attrs})
}

// logEvent writes e to the Logger with the context of its task.
func (ev *events) logEvent(ctx context.Context, e Event, quiet bool) {
	level := slog.LevelInfo
	name := e.name()
	switch {
	case name == "goroutine limit":
		level = slog.LevelError
	case e.State == StateStarting || e.State == StateRunning:
		level = slog.LevelDebug
	case e.State == StateFailed || e.State == StateStuck:
		if !quiet {
			level = slog.LevelError
		}
	case e.State == StateRestarting:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("path", e.Path)}
	if e.Err != nil {
		attrs = append(attrs, slog.Any("err", e.Err))
	}
	if pe, ok := e.Err.(*PanicError); ok {
		attrs = append(attrs, slog.String("stack", pe.Stack()))
	}
	switch e.State {
	case StateRestarting:
		attrs = append(attrs, slog.Int("attempt", e.Attempt), slog.Duration("delay", e.Delay))
	case StateDraining:
		attrs = append(attrs, slog.Duration("delay", e.Delay))
	}
	ev.log.LogAttrs(orBackground(ctx), level, "shepherd: "+name, attrs...)
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}
