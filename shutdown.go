package shepherd

import (
	"context"
	"errors"
	"time"

	"go.uber.org/multierr"
)

// This file owns a supervisor's shutdown: the end of every Run, which
// drains, stops every service in reverse order (stop.go), looks for what
// they left behind (stuck.go), flushes the events and returns the result.

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
		if c.dueTimer != nil {
			c.dueTimer.Stop() // an expiry now would be a stale message
			c.dueTimer = nil
		}
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

// drain keeps every service running for the drain delay after the
// supervisor started stopping, so that readiness probes see it not ready
// and load balancers stop sending traffic before any listener closes. The
// delay is part of the shutdown budget: it never runs past the point where
// the services would no longer have half the budget left.
func (s *Supervisor) drain(deadline time.Time) {
	d := max(0, min(s.cfg.drainDelay, time.Until(deadline)/2))
	s.ev.emit(s.base, Event{State: StateDraining, Path: s.path, Delay: d})
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
