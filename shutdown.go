package shepherd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/multierr"
)

// A StuckError reports the services that did not return within the
// shutdown budget, with the stacks of every goroutine each one owns, so the
// operator sees which goroutine refused to stop and where it is blocked.
//
// The goroutines are found through the "shepherd.path" pprof label, which
// also marks goroutines a service started with a plain go statement.
type StuckError struct {
	// Budget is the shutdown budget that ran out.
	Budget time.Duration
	// Tasks lists the stuck services in the order they were stopped.
	Tasks []StuckTask
}

// A StuckTask is one service that did not stop.
type StuckTask struct {
	// Path is the service's path.
	Path string
	// Goroutines are the goroutines owned by the service or by tasks below
	// it when the budget ran out.
	Goroutines []GoroutineStack
}

// Error names the stuck services and, for each, the innermost frame of its
// own code where one of its goroutines is blocked. Report has every stack.
func (e *StuckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "shepherd: %d %s did not stop within the %v shutdown budget:", len(e.Tasks), plural(len(e.Tasks), "service", "services"), e.Budget)
	for i, t := range e.Tasks {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %q", t.Path)
		if f, ok := blockedAt(t.Goroutines); ok {
			fmt.Fprintf(&b, " (blocked in %s at %s:%d)", f.Function, f.File, f.Line)
		}
	}
	return b.String()
}

// Report returns the full stuck report: each stuck service followed by the
// stacks of its goroutines.
func (e *StuckError) Report() string {
	var b strings.Builder
	if e.Budget > 0 {
		fmt.Fprintf(&b, "%d %s did not stop within the %v shutdown budget\n", len(e.Tasks), plural(len(e.Tasks), "service", "services"), e.Budget)
	} else {
		fmt.Fprintf(&b, "%d %s still running\n", len(e.Tasks), plural(len(e.Tasks), "service", "services"))
	}
	for _, t := range e.Tasks {
		fmt.Fprintf(&b, "\n%s:\n", t.Path)
		if len(t.Goroutines) == 0 {
			b.WriteString("  (no goroutine carries its label any more)\n")
		}
		for _, g := range t.Goroutines {
			fmt.Fprintf(&b, "  %d %s owned by %s\n", g.Count, plural(g.Count, "goroutine", "goroutines"), g.Path)
			for _, f := range g.Frames {
				fmt.Fprintf(&b, "    %s\n        %s:%d\n", f.Function, f.File, f.Line)
			}
		}
	}
	return b.String()
}

// blockedAt returns the innermost frame outside the runtime and the
// standard library's synchronisation, which is where a reader looks first.
func blockedAt(gs []GoroutineStack) (Frame, bool) {
	for _, g := range gs {
		for _, f := range g.Frames {
			if !isPlumbing(f.Function) {
				return f, true
			}
		}
	}
	return Frame{}, false
}

func isPlumbing(fn string) bool {
	for _, p := range []string{"runtime.", "internal/", "sync.", "time.", "context.", "github.com/shepherd-go/shepherd."} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func newStuckError(budget time.Duration, paths []string) *StuckError {
	all := Goroutines()
	e := &StuckError{Budget: budget}
	for _, p := range paths {
		e.Tasks = append(e.Tasks, StuckTask{Path: p, Goroutines: goroutinesUnder(all, p)})
	}
	return e
}

// goroutinesUnder returns the goroutine stacks owned by path or by a path
// below it.
func goroutinesUnder(all []GoroutineStack, path string) []GoroutineStack {
	var out []GoroutineStack
	for _, g := range all {
		if g.Path == path || strings.HasPrefix(g.Path, path+"/") {
			out = append(out, g)
		}
	}
	return out
}

// errStopped is the cause given to services when their supervisor stops
// because Stop was called.
var errStopped = errors.New("shepherd: supervisor stopped")

// shutdown stops every running service in reverse order and returns Run's
// result.
func (s *Supervisor) shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state == supRunning {
		s.state, s.since = supStopping, time.Now()
	}
	stopBy := s.stopBy
	for _, c := range s.children {
		c.restartDue = nil
		c.pendingStart = false
	}
	s.mu.Unlock()

	cause := errStopped
	switch {
	case s.failure != nil:
		cause = s.failure
	case ctx.Err() != nil:
		cause = context.Cause(ctx)
	}
	deadline := time.Now().Add(s.cfg.shutdownTimeout)
	if !stopBy.IsZero() && stopBy.Before(deadline) {
		deadline = stopBy
	}
	if s.failure == nil && s.cfg.drainDelay > 0 && s.anyRunning() {
		s.drain(deadline)
	}
	later := s.stopSet(s.snapshotChildren(), cause, deadline, true)
	return multierr.Append(s.failure, later)
}

// drain keeps every service running for the drain delay after the
// supervisor started stopping, so that readiness probes see it not ready
// and load balancers stop sending traffic before any listener closes. The
// delay is part of the shutdown budget: it never runs past the point where
// the services would no longer have half the budget left.
func (s *Supervisor) drain(deadline time.Time) {
	d := min(s.cfg.drainDelay, time.Until(deadline)/2)
	s.ev.emit(Event{Kind: EventDraining, Path: s.path, Delay: d})
	t := time.NewTimer(d)
	defer t.Stop()
	<-t.C
}

func (s *Supervisor) anyRunning() bool {
	for _, c := range s.snapshotChildren() {
		if c.cur != nil {
			return true
		}
	}
	return false
}

// stopSet stops the running services of set in reverse order by deadline
// and returns what went wrong: failures and Stop errors of the services
// (when report is set) and a *StuckError for those that did not return.
//
// Each service is asked to stop (Stop, then its context cancelled) and
// awaited before the one added before it. A service that takes too long
// does not stall the others: in the last tenth of the budget (at most a
// second) every remaining service is forced (Stop with an expired context
// and its context cancelled), and whatever has not returned by the deadline
// is stuck.
func (s *Supervisor) stopSet(set []*child, cause error, deadline time.Time, report bool) error {
	budget := time.Until(deadline)
	soft := deadline.Add(-min(budget/10, time.Second))
	var errs error
	var forced []*child
	for i := len(set) - 1; i >= 0; i-- {
		c := set[i]
		r := c.cur
		switch {
		case r == nil:
			continue
		case closed(r.done) && !r.stopped:
			// It returned on its own before being asked: an exit the main
			// loop had not processed yet.
			errs = multierr.Append(errs, s.reap(c, r, report))
			continue
		case r.stopped:
			// Asked before (a restart found it stuck): asking again would
			// call Stop twice; it only gets until the deadline.
			forced = append(forced, c)
			continue
		}
		s.requestStop(c, r, cause, soft)
		if len(forced) == 0 && s.awaitStop(r, cause, soft) {
			errs = multierr.Append(errs, s.reap(c, r, report))
			continue
		}
		forced = append(forced, c)
	}
	// Past the soft deadline: every service not yet stopped is cancelled
	// at once and has until the deadline to return.
	wait := time.NewTimer(time.Until(deadline))
	defer wait.Stop()
	var stuck []*child
	expired := false
	for _, c := range forced {
		r := c.cur
		r.cancel(cause)
		if !expired {
			expired = !waitFor(wait.C, r.done) || !waitFor(wait.C, r.stopDone)
		}
		if !closed(r.done) || (r.stopDone != nil && !closed(r.stopDone)) {
			stuck = append(stuck, c)
			continue
		}
		errs = multierr.Append(errs, s.reap(c, r, report))
	}
	if len(stuck) > 0 {
		paths := make([]string, len(stuck))
		for i, c := range stuck {
			paths[i] = c.path
		}
		se := newStuckError(budget.Round(time.Millisecond), paths)
		for _, c := range stuck {
			s.setState(c, StateStuck, se)
			s.ev.emit(Event{Kind: EventStuck, Path: c.path, Err: se})
		}
		errs = multierr.Append(errs, se)
	}
	return errs
}

// reap records the end of a run that has returned (and whose Stop, if any,
// has returned) and, when report is set, returns its failures: what Run
// returned, unless it echoes the stop or the restart policy covers it, and
// what Stop returned.
func (s *Supervisor) reap(c *child, r *run, report bool) error {
	s.mu.Lock()
	c.cur = nil
	s.mu.Unlock()
	var errs error
	if r.err != nil && !errors.Is(r.err, ErrDoNotRestart) && !(r.stopped && echoesStop(r, r.err)) {
		err := attribute(c.path, r.err)
		s.failed(c, err)
		// A failure the service's restart policy covers is reported
		// through events only: had the supervisor kept running, it would
		// have been restarted, not returned.
		if !c.restartsAfter(r.err) {
			errs = err
		}
	} else {
		s.setState(c, StateStopped, nil)
		s.ev.emit(Event{Kind: EventStopped, Path: c.path})
	}
	if r.stopErr != nil && !echoesStop(r, r.stopErr) {
		errs = multierr.Append(errs, &TaskError{Path: c.path, Err: fmt.Errorf("stop: %w", r.stopErr)})
	}
	if !report {
		return nil
	}
	return errs
}

// requestStop asks one run to stop: a Stopper's Stop is called in a
// goroutine of the service (so a hanging Stop cannot hold up the
// supervisor), and its context is cancelled once Stop returned; other
// services have their context cancelled at once.
func (s *Supervisor) requestStop(c *child, r *run, cause error, soft time.Time) {
	r.stopped = true
	s.setState(c, StateStopping, nil)
	s.ev.emit(Event{Kind: EventStopping, Path: c.path})
	st, ok := c.svc.(Stopper)
	if !ok {
		r.cancel(cause)
		return
	}
	r.stopDone = make(chan struct{})
	go func() {
		setLabels(r.ctx)
		defer close(r.stopDone)
		ctx, cancel := context.WithDeadline(context.WithoutCancel(r.ctx), soft)
		defer cancel()
		r.stopErr = Catch(r.path, func() error { return st.Stop(ctx) })
	}()
}

// awaitStop waits until the run returned (and its Stop, if any), cancelling
// its context once Stop returned. It reports false if soft passed first.
func (s *Supervisor) awaitStop(r *run, cause error, soft time.Time) bool {
	t := time.NewTimer(time.Until(soft))
	defer t.Stop()
	if !waitFor(t.C, r.stopDone) {
		return false
	}
	r.cancel(cause)
	return waitFor(t.C, r.done)
}

// waitFor waits for ch to close unless timeout fires first; a nil ch counts
// as closed.
func waitFor(timeout <-chan time.Time, ch chan struct{}) bool {
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	case <-timeout:
		return false
	}
}
