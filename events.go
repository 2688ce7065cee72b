package shepherd

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// EventKind says what happened to a task or service.
type EventKind int

// The events a Supervisor reports, in the order a service lives through
// them. Groups and Pools report only Failed and Panicked.
const (
	EventStarting   EventKind = iota // Run is about to be called
	EventReady                       // the service signalled readiness
	EventExited                      // Run returned on its own without failing: nil, or an error wrapping ErrDoNotRestart or ErrStopTree (in Err)
	EventFailed                      // Run returned an error
	EventPanicked                    // Run panicked
	EventStopping                    // the service is being asked to stop
	EventStopped                     // the service returned after a stop request
	EventStuck                       // the service did not return within the shutdown budget
	EventRestarting                  // the service will be started again after Event.Delay
	EventDraining                    // a stopping supervisor waits Event.Delay (DrainDelay) before stopping its services
	EventOverLimit                   // a GoroutineSampler counted more goroutines under Path than its MaxGoroutines; Err is a *GoroutineLimitError
)

var eventNames = [...]string{"starting", "ready", "exited", "failed", "panicked", "stopping", "stopped", "stuck", "restarting", "draining", "goroutine limit"}

func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// An Event describes one step in the life of a task or service. It is
// passed to the function given to OnEvent.
type Event struct {
	Kind EventKind
	// Path names the task or service, such as "app/api".
	Path string
	// Time is when the event happened.
	Time time.Time
	// Err is the failure for EventFailed, EventPanicked and EventStuck, and
	// the failure being recovered from for EventRestarting.
	Err error
	// Attempt counts the restarts of the service so far; 0 for its first run.
	Attempt int
	// Delay is, for EventRestarting, how long the supervisor waits before
	// starting the service again.
	Delay time.Duration
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
	kind := EventFailed
	if _, ok := err.(*PanicError); ok {
		kind = EventPanicked
	}
	quiet := kind == EventFailed && ctx != nil && echoes(ctx, err)
	if now.IsZero() {
		now = time.Now()
	}
	ev.q.post(delivery{ctx: ctx, e: Event{Kind: kind, Path: path, Err: err, Time: now}, quiet: quiet})
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
	switch e.Kind {
	case EventStarting, EventReady:
		level = slog.LevelDebug
	case EventFailed, EventPanicked, EventStuck:
		if !quiet {
			level = slog.LevelError
		}
	case EventOverLimit:
		level = slog.LevelError
	case EventRestarting:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("path", e.Path)}
	if e.Err != nil {
		attrs = append(attrs, slog.Any("err", e.Err))
	}
	if pe, ok := e.Err.(*PanicError); ok {
		attrs = append(attrs, slog.String("stack", pe.Stack()))
	}
	switch e.Kind {
	case EventRestarting:
		attrs = append(attrs, slog.Int("attempt", e.Attempt), slog.Duration("delay", e.Delay))
	case EventDraining:
		attrs = append(attrs, slog.Duration("delay", e.Delay))
	}
	ev.log.LogAttrs(orBackground(ctx), level, "shepherd: "+e.Kind.String(), attrs...)
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}
