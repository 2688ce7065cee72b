package shepherd

import (
	"context"
	"errors"
	"slices"
	"time"
)

// This file owns Remove: taking one service out of a supervisor, running
// or not. While the supervisor runs, a removal is a message to its loop
// like any other: the loop stops that service alone, within the budget,
// and drops it.

// errRemoved is the cause given to a service stopped because it was
// removed.
var errRemoved = errors.New("shepherd: service removed")

// A removal is a request to Remove, waiting for the loop.
type removal struct {
	name  string
	by    time.Time  // the deadline of Remove's context, if any
	reply chan error // buffered: the loop never waits for the caller
}

// Remove stops the service called name, if it runs, and takes it out of
// the supervisor, as OTP's terminate_child and delete_child do. It waits
// until the service returned, or ctx is done, and returns what the stop
// found wrong: the service's failure, an error from its Stop method, or a
// *StuckError if it did not return within the shutdown budget (or ctx's
// deadline, if sooner). A stuck service's goroutines are named again in
// Run's result, since they still run.
//
// Only the named service is stopped: removing a service its siblings
// depend on is the caller's choice, and nothing restarts them. The name
// may be used again afterwards (StartService, while the supervisor runs). A pending restart of the service is
// cancelled. Remove returns an error if no service is called name, and
// one wrapping ErrClosed if the supervisor is stopping, which stops the
// service anyway. When ctx is done first Remove returns ctx's error, and
// the removal goes on.
//
// Remove panics if ctx is nil or s was not made by NewSupervisor.
func (s *Supervisor) Remove(ctx context.Context, name string) error {
	s.mustBeMade("Remove(" + quote(name) + ")")
	if ctx == nil {
		panic("shepherd: supervisor " + quote(s.name) + ": Remove(nil, " + quote(name) + "): pass a context; its deadline caps the stop")
	}
	s.mu.Lock()
	if !s.names[name] {
		s.mu.Unlock()
		return errors.New("shepherd: supervisor " + quote(s.name) + ": Remove(" + quote(name) + "): no service with that name")
	}
	switch s.state {
	case supRunning:
	case supStopping:
		s.mu.Unlock()
		return &scopedError{"shepherd: supervisor " + quote(s.name) + ": Remove(" + quote(name) +
			") while the supervisor stops; the stop stops the service", ErrClosed}
	default:
		// Not running: nothing to stop, unless a stuck run is left over.
		i := s.index(name)
		if c := s.children[i]; c.cur != nil && !closed(c.cur.done) {
			s.mu.Unlock()
			return errors.New("shepherd: supervisor " + quote(s.name) + ": Remove(" + quote(name) +
				"): the service did not stop in the last run and is still running")
		}
		s.drop(i)
		s.mu.Unlock()
		return nil
	}
	rm := &removal{name: name, reply: make(chan error, 1)}
	rm.by, _ = ctx.Deadline()
	s.removals = append(s.removals, rm)
	done := s.done
	s.mu.Unlock()
	s.poke()
	select {
	case err := <-rm.reply:
		return err
	case <-done:
		// Run returned without taking the request: the stop stopped it.
		select {
		case err := <-rm.reply:
			return err
		default:
			return &scopedError{"shepherd: supervisor " + quote(s.name) + ": Remove(" + quote(name) +
				") while the supervisor stopped; the stop stopped the service", ErrClosed}
		}
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// index returns the position of the service called name; under mu.
func (s *Supervisor) index(name string) int {
	return slices.IndexFunc(s.children, func(c *child) bool { return c.name == name })
}

// drop takes the service at i out of the supervisor; under mu. The slice
// is copied, not changed in place: snapshotChildren's callers read the old
// one without the lock.
func (s *Supervisor) drop(i int) {
	c := s.children[i]
	s.children = slices.Concat(s.children[:i:i], s.children[i+1:])
	delete(s.names, c.name)
	s.added = slices.DeleteFunc(s.added, func(a *child) bool { return a == c })
	c.pendingStart, c.restartDue = false, nil
	s.finishedUpTo = 0 // the services after it moved
}

// removeRequested carries out the removals asked for: each service is
// stopped alone, in the order asked, and dropped.
func (s *Supervisor) removeRequested() {
	for {
		s.mu.Lock()
		if len(s.removals) == 0 {
			s.mu.Unlock()
			return
		}
		rm := s.removals[0]
		s.removals = s.removals[1:]
		i := s.index(rm.name)
		var c *child
		if i >= 0 {
			c = s.children[i]
			c.pendingStart, c.restartDue = false, nil
			s.removeBy = rm.by
		}
		s.mu.Unlock()
		if c == nil {
			rm.reply <- errors.New("shepherd: supervisor " + quote(s.name) + ": Remove(" + quote(rm.name) + "): no service with that name")
			continue
		}
		err := s.sayOnce(s.stopSet([]*child{c}, errRemoved, time.Now(), false))
		s.keepStuck(err)
		s.mu.Lock()
		s.removeBy = time.Time{}
		if i := s.index(rm.name); i >= 0 && s.children[i] == c {
			s.drop(i)
		}
		s.mu.Unlock()
		rm.reply <- err
	}
}

// refuseRemovals answers the removals still waiting when the supervisor
// stops: the stop stops their services.
func (s *Supervisor) refuseRemovals() {
	s.mu.Lock()
	rms := s.removals
	s.removals = nil
	s.mu.Unlock()
	for _, rm := range rms {
		rm.reply <- &scopedError{"shepherd: supervisor " + quote(s.name) + ": Remove(" + quote(rm.name) +
			") while the supervisor stops; the stop stops the service", ErrClosed}
	}
}
