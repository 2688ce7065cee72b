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
		writeStacks(&b, t.Goroutines)
	}
	return b.String()
}

func writeStacks(b *strings.Builder, gs []GoroutineStack) {
	for _, g := range gs {
		fmt.Fprintf(b, "  %d %s owned by %s\n", g.Count, plural(g.Count, "goroutine", "goroutines"), g.Path)
		for _, f := range g.Frames {
			fmt.Fprintf(b, "    %s\n        %s:%d\n", f.Function, f.File, f.Line)
		}
	}
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

func newStuckError(budget time.Duration, tree string, paths []string) *StuckError {
	all := Goroutines()
	e := &StuckError{Budget: budget}
	for _, p := range paths {
		e.Tasks = append(e.Tasks, StuckTask{Path: p, Goroutines: goroutinesUnder(all, tree, p)})
	}
	return e
}

// goroutinesUnder returns the goroutine stacks of tree owned by path or by
// a path below it.
func goroutinesUnder(all []GoroutineStack, tree, path string) []GoroutineStack {
	var out []GoroutineStack
	for _, g := range all {
		if g.Tree == tree && (g.Path == path || strings.HasPrefix(g.Path, path+"/")) {
			out = append(out, g)
		}
	}
	return out
}

// minForceWait is how long a service whose context was cancelled because
// the budget ran out gets to return before it counts as stuck, however
// little budget was left.
const minForceWait = 10 * time.Millisecond

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
	for _, c := range s.children {
		c.restartDue = nil
		c.pendingStart = false
	}
	// The stop starts now if nothing requested it earlier. Recording that
	// keeps the budget's start from moving after the fact: the AfterFunc
	// that notes ctx's cancellation may run a moment after this reads.
	now := time.Now()
	if s.stopAt.IsZero() || s.stopAt.After(now) {
		s.stopAt = now
	}
	since := s.stopAt
	s.mu.Unlock()
	s.refuseRemovals()

	cause := errStopped
	switch {
	case s.failure != nil:
		cause = s.failure
	case ctx.Err() != nil:
		cause = context.Cause(ctx)
	}
	// The budget runs from the stop request, even when a restart was
	// stopping services at the time; a failure stops at once.
	if s.failure != nil {
		since = now
	}
	if s.failure == nil && s.cfg.drainDelay > 0 && s.anyRunning() {
		s.drain(s.budgetFrom(since))
	}
	later := s.stopSet(s.snapshotChildren(), cause, since, false)
	result := s.withAbandoned(multierr.Append(s.failure, later))
	s.mu.Lock()
	parentLingers := s.parentLingers
	s.mu.Unlock()
	if !parentLingers {
		// A supervisor stopped by its parent's shutdown leaves this to
		// the parent, which looks at the whole subtree once: a look
		// stops the world, and one per level would make a deep tree's
		// stop outlast its budget.
		result = multierr.Append(result, s.lingering(result, since))
	}
	result = s.sayOnce(result)
	// The events of the stop reach the sinks before Run returns, within
	// the budget; a sink still blocked at its end is named stuck.
	if d := s.delivery; d != nil {
		deadline := s.budgetFrom(since)
		result = multierr.Append(result, d.close(deadline, deadline.Sub(since)))
	}
	// A hook that failed while the tree stopped: too late to stop
	// anything, not too late to be reported.
	return multierr.Append(result, s.takeHookErr())
}

// lingering waits, until the end of the shutdown budget, for the goroutines
// that services started and left behind when they returned: handlers of a
// server that was closed under them, or goroutines started with a plain go
// statement. Their pprof labels say whose they are. It returns a
// *StuckError for the services whose goroutines are still there, leaving
// out those already reported stuck.
func (s *Supervisor) lingering(result error, since time.Time) error {
	var named []string
	for _, e := range allErrors(result) {
		if se, ok := e.(*StuckError); ok {
			for _, t := range se.Tasks {
				named = append(named, t.Path)
			}
		}
	}
	under := func(path, root string) bool { return path == root || strings.HasPrefix(path, root+"/") }
	// Goroutines on their way out go within microseconds; the rest are
	// looked at less and less often, as each look stops the world.
	pause := time.Millisecond
	for {
		left := map[string][]GoroutineStack{}
		var order []string
	next:
		for _, g := range Goroutines() {
			if g.Tree != s.tree || g.Path == s.path || !under(g.Path, s.path) {
				continue // another tree's, not below this supervisor, or its own goroutine
			}
			for _, n := range named {
				if under(g.Path, n) {
					continue next
				}
			}
			// Attributed to the service directly below this supervisor.
			svc := s.path + "/" + strings.SplitN(strings.TrimPrefix(g.Path, s.path+"/"), "/", 2)[0]
			if left[svc] == nil {
				order = append(order, svc)
			}
			left[svc] = append(left[svc], g)
		}
		if len(left) == 0 {
			return nil
		}
		deadline := s.budgetFrom(since)
		if !time.Now().Before(deadline) {
			se := &StuckError{Budget: max(0, deadline.Sub(since)).Round(time.Millisecond)}
			for _, p := range order {
				se.Tasks = append(se.Tasks, StuckTask{Path: p, Goroutines: left[p]})
				for _, c := range s.snapshotChildren() {
					if c.path == p {
						s.setState(c, StateStuck, se)
					}
				}
				s.ev.emit(s.base, Event{Kind: EventStuck, Path: p, Err: se})
			}
			return se
		}
		t := time.NewTimer(min(pause, time.Until(deadline)))
		<-t.C
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// sayOnce settles the services whose Stop ran out of time although their
// Run returned: one named stuck is reported by its *StuckError alone (its
// Stop's timeout is the same story), the others are reported stopped now.
func (s *Supervisor) sayOnce(result error) error {
	unsure := s.unsure
	s.unsure = nil
	if len(unsure) == 0 {
		return result
	}
	stuck := map[string]bool{}
	for _, e := range allErrors(result) {
		if se, ok := e.(*StuckError); ok {
			for _, t := range se.Tasks {
				stuck[t.Path] = true
			}
		}
	}
	for _, c := range unsure {
		if !stuck[c.path] {
			s.ev.emit(c.base, Event{Kind: EventStopped, Path: c.path})
		}
	}
	if len(stuck) == 0 {
		return result
	}
	var out error
	for _, e := range multierr.Errors(result) {
		if te, ok := e.(*TaskError); ok && stuck[te.Path] && errors.Is(te.Err, context.DeadlineExceeded) && strings.HasPrefix(te.Err.Error(), "stop: ") {
			continue
		}
		out = multierr.Append(out, e)
	}
	return out
}

// without returns err less the error early, when err is early or combines
// it with others.
func without(err, early error) error {
	if err == early {
		return nil
	}
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		var rest error
		for _, e := range m.Unwrap() {
			if e != early {
				rest = multierr.Append(rest, e)
			}
		}
		return rest
	}
	return err
}

// keepStuck remembers the stuck reports inside err, the exit of a run that
// a restart is about to go past.
func (s *Supervisor) keepStuck(err error) {
	if !holdsStuck(err) {
		return // the common case, without building the list
	}
	for _, e := range allErrors(err) {
		if se, ok := e.(*StuckError); ok {
			s.abandoned = append(s.abandoned, se)
		}
	}
}

// holdsStuck reports whether err's tree holds a *StuckError. Unlike
// errors.As it needs no target on the heap: a restart that left nothing
// stuck allocates nothing here.
func holdsStuck(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *StuckError:
			return true
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				if holdsStuck(x) {
					return true
				}
			}
			return false
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return false
		}
	}
	return false
}

// withAbandoned adds to err the stuck reports of earlier runs it does not
// already hold.
func (s *Supervisor) withAbandoned(err error) error {
	held := allErrors(err)
	for _, se := range s.abandoned {
		found := false
		for _, e := range held {
			if e == error(se) {
				found = true
				break
			}
		}
		if !found {
			err = multierr.Append(err, se)
		}
	}
	return err
}

// allErrors returns every error in err's tree.
func allErrors(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			out = append(out, allErrors(x)...)
		}
	case interface{ Unwrap() error }:
		out = append(out, allErrors(e.Unwrap())...)
	}
	return out
}

// budgetFrom returns the end of a shutdown budget that starts at t:
// ShutdownTimeout later, but no later than the budget of a stop request
// already made, nor than the deadline given to Stop.
func (s *Supervisor) budgetFrom(t time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := t.Add(s.cfg.shutdownTimeout)
	if !s.stopAt.IsZero() {
		if e := s.stopAt.Add(s.cfg.shutdownTimeout); e.Before(d) {
			d = e
		}
	}
	if !s.stopBy.IsZero() && s.stopBy.Before(d) {
		d = s.stopBy
	}
	if !s.removeBy.IsZero() && s.removeBy.Before(d) {
		d = s.removeBy
	}
	return d
}

// drain keeps every service running for the drain delay after the
// supervisor started stopping, so that readiness probes see it not ready
// and load balancers stop sending traffic before any listener closes. The
// delay is part of the shutdown budget: it never runs past the point where
// the services would no longer have half the budget left.
func (s *Supervisor) drain(deadline time.Time) {
	d := max(0, min(s.cfg.drainDelay, time.Until(deadline)/2))
	s.ev.emit(s.base, Event{Kind: EventDraining, Path: s.path, Delay: d})
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

// stopSet stops the running services of set in reverse order within the
// budget that began at since, and returns what went wrong: failures and
// Stop errors of the services, and a *StuckError for those that did not
// return.
//
// Each service is asked to stop (Stop, then its context cancelled) and
// awaited before the one added before it. A service that takes too long
// does not stall the others: in the last tenth of the budget (at most a
// second) every remaining service is forced (its context cancelled, and
// Stop given only until just before the deadline), and whatever has not
// returned by the deadline is stuck. The deadline is read again whenever
// a stop request or a Stop deadline may have brought it closer.
//
// When restarting (stopping siblings to restart them with a failed
// service), a failure that the restart covers is not one, and a service
// found to have returned on its own is left as it is, for the caller to
// judge.
func (s *Supervisor) stopSet(set []*child, cause error, since time.Time, restarting bool) error {
	defer func() {
		if s.woke {
			s.woke = false
			s.poke()
		}
	}()
	deadline := func() time.Time { return s.budgetFrom(since) }
	soft := func() time.Time {
		d := deadline()
		return d.Add(-min(max(0, d.Sub(since))/10, time.Second))
	}
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
			if !restarting {
				errs = multierr.Append(errs, s.reap(c, r, false))
			}
			continue
		case r.stopped:
			// Asked before (a restart found it stuck): asking again would
			// call Stop twice; it only gets until the deadline.
			forced = append(forced, c)
			continue
		}
		if len(forced) > 0 {
			d := deadline()
			stopBy := d.Add(-min(max(0, time.Until(d))/10, 100*time.Millisecond))
			if nested(c) {
				stopBy = d
			}
			s.requestStop(c, r, cause, stopBy)
			forced = append(forced, c)
			continue
		}
		if nested(c) {
			// A nested supervisor shares the tree's deadline: it forces
			// its own services and names its own stuck ones by then.
			s.requestStop(c, r, cause, deadline())
		} else {
			s.requestStop(c, r, cause, soft())
		}
		if s.awaitStop(r, cause, soft) {
			errs = multierr.Append(errs, s.reap(c, r, restarting))
			continue
		}
		forced = append(forced, c)
	}
	return multierr.Append(errs, s.force(forced, cause, since, restarting))
}

// force is the end of a stop, past the soft deadline: every service of
// forced (not yet stopped) is cancelled at once and has until the deadline
// to return, and at least minForceWait: a service that returns promptly
// when cancelled is not stuck, even when a sibling used up the whole
// budget. Those that do not return are named in one *StuckError.
func (s *Supervisor) force(forced []*child, cause error, since time.Time, restarting bool) error {
	if len(forced) == 0 {
		return nil
	}
	for _, c := range forced {
		c.cur.cancel(cause)
	}
	deadline := func() time.Time { return s.budgetFrom(since) }
	forcedBy := time.Now().Add(minForceWait)
	hard := func() time.Time {
		if d := deadline(); d.After(forcedBy) {
			return d
		}
		return forcedBy
	}
	// A nested supervisor returns at the deadline with its own report of
	// what is stuck below it: it gets a moment past the deadline to
	// deliver it, so that the report is made once, where it is precise,
	// and not again at every level above.
	hardNested := func() time.Time { return hard().Add(nestedGrace) }
	var errs error
	var stuck []*child
	for _, c := range forced {
		r := c.cur
		limit := hard
		if nested(c) {
			limit = hardNested
		}
		if !s.waitStop(r.done, limit) || !s.waitStop(r.stopDone, limit) {
			stuck = append(stuck, c)
			continue
		}
		errs = multierr.Append(errs, s.reap(c, r, restarting))
	}
	if len(stuck) == 0 {
		return errs
	}
	paths := make([]string, len(stuck))
	for i, c := range stuck {
		paths[i] = c.path
	}
	// A Stop deadline that had passed before the stop began leaves no
	// budget at all, not a negative one.
	se := newStuckError(max(0, deadline().Sub(since)).Round(time.Millisecond), s.tree, paths)
	for _, c := range stuck {
		s.setState(c, StateStuck, se)
		s.ev.emit(c.base, Event{Kind: EventStuck, Path: c.path, Err: se})
	}
	return multierr.Append(errs, se)
}

// reap records the end of a run that has returned (and whose Stop, if any,
// has returned) and returns its failures: what Run returned, unless it
// echoes the stop or a restart covers it, and what Stop returned.
func (s *Supervisor) reap(c *child, r *run, restarting bool) error {
	s.mu.Lock()
	c.cur = nil
	s.mu.Unlock()
	s.mu.Lock()
	runErr := r.err
	if r.earlyTaken {
		// Already reported as this supervisor's failure.
		runErr = without(runErr, r.early)
	}
	s.mu.Unlock()
	var errs error
	switch {
	case r.earlyTaken && runErr == nil:
		s.setState(c, StateFailed, nil)
	case runErr != nil && !errors.Is(runErr, ErrDoNotRestart) && !(r.stopped && echoesStop(r, runErr)):
		err := attribute(c.path, runErr)
		s.failed(c, err)
		// A failure the restart policy covers is reported through events
		// only, when a restart will follow or would have followed (the run
		// ended on its own). A failure while the tree stops (a flush that
		// failed) is reported.
		if !c.restartsAfter(runErr) || (r.stopped && !restarting) {
			errs = err
		} else {
			s.keepStuck(runErr)
		}
	case r.stopped && !restarting && errors.Is(r.stopErr, context.DeadlineExceeded):
		// Run returned, but Stop ran out of time: something of the
		// service (a handler) may still run. Whether it stopped or is
		// stuck is said once, when the look for leftovers is over.
		s.setState(c, StateStopped, nil)
		s.unsure = append(s.unsure, c)
	case r.stopped:
		s.setState(c, StateStopped, nil)
		s.ev.emit(c.base, Event{Kind: EventStopped, Path: c.path})
	default:
		s.setState(c, StateStopped, nil)
		s.ev.emit(c.base, Event{Kind: EventExited, Path: c.path, Err: r.err})
	}
	if r.stopErr != nil && !echoesStopCall(r.stopErr) {
		errs = multierr.Append(errs, &TaskError{Path: c.path, Err: fmt.Errorf("stop: %w", r.stopErr)})
	}
	return errs
}

// requestStop asks one run to stop: a Stopper's Stop is called in a
// goroutine of the service (so a hanging Stop cannot hold up the
// supervisor), and its context is cancelled once Stop returned; other
// services have their context cancelled at once.
func (s *Supervisor) requestStop(c *child, r *run, cause error, stopBy time.Time) {
	s.mu.Lock()
	r.stopped = true // under mu: earlyFailure reads it from other goroutines
	s.mu.Unlock()
	s.setState(c, StateStopping, nil)
	s.ev.emit(c.base, Event{Kind: EventStopping, Path: c.path})
	st, ok := c.svc.(Stopper)
	if !ok {
		r.cancel(cause)
		return
	}
	r.stopDone = make(chan struct{})
	go func() {
		setLabels(r.ctx)
		returned := false
		defer func() {
			// A panic or runtime.Goexit in Stop is the service's failure.
			if !returned {
				r.stopErr = exitError(r.path, recover())
			}
			close(r.stopDone)
		}()
		ctx, cancel := context.WithDeadline(context.WithoutCancel(r.ctx), stopBy)
		defer cancel()
		if !errors.Is(cause, errRestart) {
			ctx = context.WithValue(ctx, parentLingersKey{}, true)
		}
		r.stopErr = st.Stop(ctx)
		returned = true
	}()
}

// nestedGrace is how long past the deadline a supervisor waits for a
// nested supervisor, which returns at the deadline with its own report.
// It bounds what a deep tree's stop can overrun its budget by.
const nestedGrace = 50 * time.Millisecond

// nested reports whether c is a supervisor of its own.
func nested(c *child) bool {
	_, ok := c.svc.(*Supervisor)
	return ok
}

// parentLingersKey marks the context of a Stop call made by a supervisor's
// shutdown: the supervisor will look for goroutines its services left
// behind, below them too, so a nested supervisor need not.
type parentLingersKey struct{}

// awaitStop waits until the run returned (and its Stop, if any),
// cancelling its context once Stop returned. It reports false if the soft
// deadline passed first.
func (s *Supervisor) awaitStop(r *run, cause error, soft func() time.Time) bool {
	if !s.waitStop(r.stopDone, soft) {
		return false
	}
	r.cancel(cause)
	return s.waitStop(r.done, soft)
}

// waitStop waits for ch to close until the time limit returns, which it
// reads again each time the budget may have shrunk. A nil ch counts as
// closed.
func (s *Supervisor) waitStop(ch chan struct{}, limit func() time.Time) bool {
	if ch == nil {
		return true
	}
	for {
		t := time.NewTimer(time.Until(limit()))
		select {
		case <-ch:
			t.Stop()
			return true
		case <-t.C:
			return closed(ch)
		case <-s.rebudget:
			t.Stop()
		case <-s.wake:
			// A service failed meanwhile (an early report from a nested
			// supervisor, or an exit): a failure that stops the
			// supervisor is recorded now, so that it comes first and is
			// passed up at once. The wake is given back when the stop is
			// over, for the main loop.
			t.Stop()
			s.woke = true
			s.settle(s.runCtx, true)
		}
	}
}
