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

// events is where a tree reports what happens in it. The zero of *events
// (nil) discards everything, which keeps the hot path free of checks.
type events struct {
	log  *slog.Logger
	hook func(Event)
	// owner is the supervisor that set hook: a hook that panics fails it,
	// as a panic anywhere else in its tree would.
	owner *Supervisor
}

func (ev *events) emit(e Event) {
	if ev == nil {
		return
	}
	e.Time = time.Now()
	if ev.log != nil {
		ev.logEvent(e)
	}
	if ev.hook != nil {
		if err := ev.callHook(e); err != nil {
			if ev.log != nil {
				ev.log.Error("shepherd: OnEvent hook failed", "path", e.Path, "event", e.Kind.String(), "err", err)
			}
			if ev.owner != nil {
				ev.owner.hookFailed(err)
			}
		}
	}
}

// callHook calls the hook on a goroutine of its own and waits for it: a
// hook that panics or calls runtime.Goexit (a t.FailNow in a test's hook)
// must not take the supervisor's goroutine with it. Events are rare enough
// for the extra goroutine not to matter.
func (ev *events) callHook(e Event) (err error) {
	done := make(chan struct{})
	go func() {
		returned := false
		defer func() {
			if !returned {
				err = exitError(e.Path+" (OnEvent hook)", recover())
			}
			close(done)
		}()
		ev.hook(e)
		returned = true
	}()
	<-done
	return err
}

func (ev *events) failed(path string, err error) {
	if ev == nil {
		return
	}
	kind := EventFailed
	if _, ok := err.(*PanicError); ok {
		kind = EventPanicked
	}
	ev.emit(Event{Kind: kind, Path: path, Err: err})
}

func (ev *events) logEvent(e Event) {
	level := slog.LevelInfo
	switch e.Kind {
	case EventStarting, EventReady:
		level = slog.LevelDebug
	case EventFailed, EventPanicked, EventStuck, EventOverLimit:
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
	ev.log.LogAttrs(context.Background(), level, "shepherd: "+e.Kind.String(), attrs...)
}
