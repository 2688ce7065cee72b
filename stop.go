package shepherd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/multierr"
)

// This file owns the stop sequence and its budget: stopping a set of
// services in reverse order within one deadline, forcing those that take
// too long, and reaping what each run returned.

// minForceWait is how long a service whose context was cancelled because
// the budget ran out gets to return before it counts as stuck, however
// little budget was left.
const minForceWait = 10 * time.Millisecond

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
		if !s.waitStop(r.done, limit) || !s.waitStop(r.stopDone(), limit) {
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
		s.ev.emit(c.base, Event{State: StateStuck, Path: c.path, Err: se})
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
	case runErr != nil && !errors.Is(runErr, ErrDoNotRestart) && (!r.stopped || !echoesStop(r, runErr)):
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
	case r.stopped && !restarting && errors.Is(r.stopErr(), context.DeadlineExceeded):
		// Run returned, but Stop ran out of time: something of the
		// service (a handler) may still run. Whether it stopped or is
		// stuck is said once, when the look for leftovers is over.
		s.setState(c, StateStopped, nil)
		s.unsure = append(s.unsure, c)
	case r.stopped:
		s.setState(c, StateStopped, nil)
		s.ev.emit(c.base, Event{State: StateStopped, Requested: true, Path: c.path})
	default:
		s.setState(c, StateStopped, nil)
		s.ev.emit(c.base, Event{State: StateStopped, Path: c.path, Err: r.err})
	}
	if r.stopErr() != nil && !echoesStopCall(r.stopErr()) {
		errs = multierr.Append(errs, &TaskError{Path: c.path, Err: fmt.Errorf("stop: %w", r.stopErr())})
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
	s.ev.emit(c.base, Event{State: StateStopping, Path: c.path})
	stop := stopFunc(c.svc)
	if stop == nil {
		r.cancel(cause)
		return
	}
	st := &stopCall{done: make(chan struct{})}
	r.st = st
	go func() {
		setLabels(r.ctx())
		returned := false
		defer func() {
			// A panic or runtime.Goexit in Stop is the service's failure.
			if !returned {
				st.err = exitError(r.path, recover())
			}
			close(st.done)
		}()
		ctx, cancel := context.WithDeadline(context.WithoutCancel(r.ctx()), stopBy)
		defer cancel()
		if !errors.Is(cause, errRestart) {
			ctx = context.WithValue(ctx, parentLingersKey{}, true)
		}
		st.err = stop(ctx)
		returned = true
	}()
}

// stopFunc returns the Stop of svc: a Stopper's, or a nested supervisor's
// (which is not a Stopper: its Stop has no result, the result of its stop
// being what its Run returns); nil for other services.
func stopFunc(svc Service) func(context.Context) error {
	switch svc := svc.(type) {
	case *Supervisor:
		return func(ctx context.Context) error { svc.Stop(ctx); return nil }
	case Stopper:
		return svc.Stop
	}
	return nil
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
	if !s.waitStop(r.stopDone(), soft) {
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
