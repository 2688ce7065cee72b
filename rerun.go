package shepherd

import (
	"context"
	"errors"
	"time"
)

// This file owns the goroutine that carries out a service's runs. When a
// run ends, its goroutine posts the exit to the loop and waits on a
// channel of its own for the loop's verdict: the service's next run (an
// immediate restart, which the loop decided as it decides every exit) or
// nil, to end. An immediate restart so costs no new goroutine, and the
// loop never waits for the goroutine to take it: the hand-off is a
// buffered send.
//
// The loop's state is guarded by s.own, which the goroutine in Run holds
// except while it waits for a message. An ending run whose exit can be
// decided without waiting (child.decidable) and that finds the loop idle
// and the mailbox empty takes s.own itself and decides its exit there
// (decideHere): the same rules, in the same arrival order, with no
// goroutine switch. Any other exit is posted for the loop.
//
// Every exit message is taken once, by settle or by closeMailbox at the
// end of Run, and whoever takes it hands its goroutine a run or nil, so no
// goroutine waits past its supervisor's Run.

// launch starts run r of c: on the goroutine of c's last run if that one
// waits for a verdict, on a new goroutine otherwise.
func (s *Supervisor) launch(c *child, r *run) {
	if next := c.idle; next != nil {
		c.idle = nil
		next <- r
		return
	}
	go s.runChild(c, r)
}

// runChild is the goroutine of the runs of c, starting with r. Its
// channel for the loop's verdicts is made at its first exit that waits for
// one: a run that is stopped, as most are, costs none.
func (s *Supervisor) runChild(c *child, r *run) {
	var next chan *run
	for r != nil && s.runOnce(c, r, &next) {
		r = <-next
	}
}

// runOnce carries out run r. It reports whether the goroutine is to wait
// on *next for the loop's verdict: not when the service called
// runtime.Goexit (the goroutine is ending), nor when postExit says not.
func (s *Supervisor) runOnce(c *child, r *run, next *chan *run) (wait bool) {
	setLabels(r.ctx())
	returned := false
	defer func() {
		p := recover()
		if !returned {
			r.err = exitError(r.path, p)
		}
		r.endedAt = time.Now()
		goexit := !returned && p == nil
		// A goroutine waiting for the loop is no goroutine of the
		// service: a look for leftovers must not find it under its path.
		setLabels(context.Background())
		// Posted before done is closed, so that a stop waiting on done
		// finds this goroutine gone or unlabelled rather than blocked on
		// the mailbox's lock, where a look for leftovers would see it.
		// Deferred, so that done is closed even if deciding the exit
		// here ends the goroutine (rerun.go's decideHere).
		defer close(r.done)
		wait = s.postExit(c, r, next, !goexit)
	}()
	r.err = c.svc.Run(r.ctx())
	returned = true
	return false // set by the deferred function
}

// postExit posts the end of run r, and reports whether its goroutine is
// to wait on *next (made here if need be) for the loop's verdict: only if
// it can, the run was not asked to stop and the supervisor is running, as
// nothing else is restarted in place. A stop of many services so leaves no
// goroutine waiting.
//
// When the loop waits idle for a message and the mailbox is empty, the
// exit is decided here instead, by the goroutine of the run (decideHere).
func (s *Supervisor) postExit(c *child, r *run, next *chan *run, canWait bool) bool {
	s.mu.Lock()
	// A run that ended on its own is over: goroutines it left watching its
	// context stop now, not never. A run asked to stop is left to the
	// stop, which cancels its context once a Stopper's Stop returned: Stop
	// may still be draining through that context (an http.Server's
	// requests) after it made Run return.
	ended := !r.stopped
	if !s.open {
		s.mu.Unlock()
		endRun(r, ended)
		return false
	}
	var ch chan *run
	if canWait && ended && s.state == supRunning {
		if *next == nil {
			*next = make(chan *run, 1)
		}
		ch = *next
	}
	m := message{c: c, r: r, next: ch}
	if ch != nil && c.decidable && s.inboxHead == len(s.inbox) && s.own.TryLock() {
		s.mu.Unlock()
		endRun(r, ended)
		return s.decideHere(m)
	}
	s.inbox = append(s.inbox, m)
	s.mu.Unlock()
	endRun(r, ended)
	s.poke()
	return ch != nil
}

// endRun cancels the context of r, which ended on its own if ended.
func endRun(r *run, ended bool) {
	if ended {
		r.cancel(errRunEnded)
	}
}

// decideHere decides the exit m, as the loop would have, on the goroutine
// of the ended run, which holds s.own: the loop is waiting for a message,
// and none came before this one, so arrival order is kept. Only the exits
// of services whose every verdict is carried out without waiting
// (child.decidable) come here: nothing in it waits for another goroutine,
// so the loop, should it wake meanwhile, waits on s.own for a few
// microseconds at most. An immediate restart so costs no goroutine switch
// at all: the next run is handed to this very goroutine, through next,
// where it is taken at once.
//
// Whatever the loop must act on after the decision (the supervisor
// failed, the service is done, another message came) is left to it: it is
// woken, and takes s.own once it is released here.
func (s *Supervisor) decideHere(m message) (wait bool) {
	// m.r is still c's current run: only the holder of s.own replaces or
	// stops a run, and postExit found m.r not stopped with its exit not
	// yet posted, so settle's check for a stale exit has nothing to find.
	c := m.c
	if s.failure != nil {
		// The supervisor failed (by an exit decided here, its loop not
		// yet awake): it decides nothing more, and its shutdown takes
		// this run. The exit waits in the mailbox like any other.
		s.mu.Lock()
		s.inbox = append(s.inbox, m)
		s.mu.Unlock()
		s.own.Unlock()
		s.poke()
		return true
	}
	restarted := false
	// Deferred, so that s.own is given back even if judging ends this
	// goroutine (runtime.Goexit in a method of the run's error).
	defer func() {
		s.own.Unlock()
		if !restarted {
			s.poke()
		}
	}()
	// takeExit hands m.next the next run, or nil: either way the
	// goroutine takes it without waiting.
	s.takeExit(s.runCtx, m, false)
	restarted = c.cur != nil && s.failure == nil
	return true
}

// errRunEnded is the cause of a run's context once its Run returned.
var errRunEnded = errors.New("shepherd: the service's Run returned")

// release tells a goroutine waiting on next, if any, to end.
func release(next chan *run) {
	if next != nil {
		next <- nil
	}
}
