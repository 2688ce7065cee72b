package shepherd

import (
	"context"
	"errors"
)

// This file owns the supervisor's mailbox: the messages other goroutines
// post to the goroutine in Run (a run ended, a nested supervisor failed
// early, a restart's backoff is over), and settle, which takes them in arrival order. Arrival order is
// causal order: a failure posted because of another, or after it was seen,
// arrives after it. Each message costs O(1), whatever the number of
// services.

// A message tells the loop that run r of c ended (its done is closed), or,
// with early, that r is a nested supervisor that has failed and is stopping,
// or, with set (and no c), that the backoff of a restart of set is over.
type message struct {
	c     *child
	r     *run
	early bool
	set   []*child
	// next is where the goroutine of an ended run waits for its next run
	// (see rerun.go); whoever takes the message hands it one or nil.
	next chan *run
}

// post queues m for the loop and wakes it. Any goroutine may post. Once
// Run is over it queues nothing: nobody would take the message.
func (s *Supervisor) post(m message) {
	s.mu.Lock()
	if !s.open {
		s.mu.Unlock()
		return
	}
	s.inbox = append(s.inbox, m)
	s.mu.Unlock()
	s.poke()
}

// closeMailbox ends the taking of messages at the end of Run: those left
// are dropped, and the goroutines waiting on them told to end.
func (s *Supervisor) closeMailbox() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open = false
	for _, m := range s.inbox[s.inboxHead:] {
		release(m.next)
	}
	clear(s.inbox)
	s.inbox, s.inboxHead = s.inbox[:0], 0
}

// next takes the oldest message, if any.
func (s *Supervisor) next() (message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inboxHead == len(s.inbox) {
		return message{}, false
	}
	m := s.inbox[s.inboxHead]
	s.inbox[s.inboxHead] = message{}
	s.inboxHead++
	if s.inboxHead == len(s.inbox) {
		s.inbox, s.inboxHead = s.inbox[:0], 0
	}
	return m, true
}

// putBack returns messages taken but not handled to the front of the
// inbox, in their order.
func (s *Supervisor) putBack(ms []message) {
	if len(ms) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inboxHead >= len(ms) {
		s.inboxHead -= len(ms)
		copy(s.inbox[s.inboxHead:], ms)
		return
	}
	s.inbox = append(append([]message(nil), ms...), s.inbox[s.inboxHead:]...)
	s.inboxHead = 0
}

// settle handles the messages in the order they arrived: the early
// failures of nested supervisors and the exits of services that returned
// on their own, so that the failure that came first is the one reported
// first. While another service is starting or a stop is under way
// (fatalOnly), it handles only those that stop the supervisor; the rest
// wait for the main loop. It reports whether the supervisor has failed.
func (s *Supervisor) settle(ctx context.Context, fatalOnly bool) bool {
	var keep []message
	defer func() { s.putBack(keep) }()
	for {
		if !fatalOnly && s.failure != nil {
			// Failed by an exit an ending run decided (rerun.go): the loop
			// decides nothing more, and its shutdown takes what is left.
			return true
		}
		m, ok := s.next()
		if !ok {
			return false
		}
		if m.set != nil {
			if fatalOnly {
				keep = append(keep, m)
				continue
			}
			s.startDue(ctx, m.set)
			if s.failure != nil {
				return true
			}
			continue
		}
		c, r := m.c, m.r
		if c.cur != r || r.stopped {
			release(m.next)
			continue // handled already: by a start, a stop or a restart
		}
		if m.early {
			s.mu.Lock()
			early, taken := r.early, r.earlyTaken
			if early != nil && !taken && !c.restartsAfter(early) {
				r.earlyTaken = true
			} else {
				early = nil
			}
			s.mu.Unlock()
			if early == nil {
				continue
			}
			s.fail(early) // attributed to c when posted; passed up already
			s.failed(c, early)
		} else if !s.takeExit(ctx, m, fatalOnly) {
			keep = append(keep, m)
			continue
		}
		if s.failure != nil {
			return true
		}
	}
}

// takeExit handles m, the exit of a run that ended on its own and is
// still its service's current run, and hands the run's goroutine its next
// run or nil. When fatalOnly, it handles only an exit that stops the
// supervisor and reports false, handling nothing, for any other.
func (s *Supervisor) takeExit(ctx context.Context, m message, fatalOnly bool) bool {
	c, r := m.c, m.r
	err, ok := s.exitError(r)
	if fatalOnly && (!ok || err == nil || harmless(c, err)) {
		return false
	}
	s.mu.Lock()
	c.cur = nil
	s.mu.Unlock()
	if ok {
		// An immediate restart of c takes its goroutine back.
		c.idle = m.next
		s.judge(ctx, c, err, r)
		m.next, c.idle = c.idle, nil
	}
	release(m.next)
	return true
}

// harmless reports whether err, which a run of c returned, neither stops
// nor fails the supervisor. A panic in err's methods says it does not:
// judge then takes the exit, and reports the panic as a failure.
func harmless(c *child, err error) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return errors.Is(err, ErrDoNotRestart) || c.restartsAfter(err)
}

// judge carries out the verdict on run r of c, which returned err. Judging
// calls err's own methods (Is, Unwrap), which are the user's code: a panic
// in them is the supervisor's failure, attributed to c, not a crash of the
// goroutine that judges (an ending run, or Run's). runtime.Goexit in them
// is recorded the same way, but the goroutine still exits: the goroutine
// waiting for c's next run is told to end, as takeExit will not go on. On
// Run's own goroutine that ends Run without a return, as a Goexit in any
// code Run calls would.
func (s *Supervisor) judge(ctx context.Context, c *child, err error, r *run) {
	judged := false
	defer func() {
		if judged {
			return
		}
		p := recover()
		if p == nil {
			release(c.idle)
			c.idle = nil
		}
		s.fail(exitError(c.path, p))
	}()
	s.exited(ctx, c, err, r.start, r.endedAt)
	judged = true
}
