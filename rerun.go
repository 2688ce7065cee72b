package shepherd

import (
	"context"
	"time"
)

// This file owns the goroutine that carries out a service's runs. When a
// run ends, its goroutine posts the exit to the loop and waits on a
// channel of its own for the loop's verdict: the service's next run (an
// immediate restart, which the loop decided as it decides every exit) or
// nil, to end. An immediate restart so costs no new goroutine, and the
// loop never waits for the goroutine: the hand-off is a buffered send.
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

// runChild is the goroutine of the runs of c, starting with r.
func (s *Supervisor) runChild(c *child, r *run) {
	next := make(chan *run, 1)
	for r != nil && s.runOnce(c, r, next) {
		r = <-next
	}
}

// runOnce carries out run r. It reports whether the goroutine is to wait
// on next for the loop's verdict: not when the service called
// runtime.Goexit (the goroutine is ending), nor once Run is over.
func (s *Supervisor) runOnce(c *child, r *run, next chan *run) (wait bool) {
	setLabels(r.ctx())
	returned := false
	defer func() {
		p := recover()
		if !returned {
			r.err = exitError(r.path, p)
		}
		r.endedAt = time.Now()
		goexit := !returned && p == nil
		if goexit {
			next = nil
		}
		// A goroutine waiting for the loop is no goroutine of the
		// service: a look for leftovers must not find it under its path.
		setLabels(context.Background())
		// Posted before done is closed, so that a stop waiting on done
		// finds this goroutine gone or unlabelled rather than blocked on
		// the mailbox's lock, where a look for leftovers would see it.
		wait = s.postExit(c, r, next)
		close(r.done)
	}()
	r.err = c.svc.Run(r.ctx())
	returned = true
	return false // set by the deferred function
}

// postExit posts the end of run r, and reports whether its goroutine is
// to wait on next for the loop's verdict: not when next is nil, nor when
// the run was asked to stop or the supervisor is stopping (neither is
// restarted in place), nor once Run is over. A stop of many services so
// leaves no goroutine waiting.
func (s *Supervisor) postExit(c *child, r *run, next chan *run) bool {
	s.mu.Lock()
	if !s.open {
		s.mu.Unlock()
		return false
	}
	if r.stopped || s.state != supRunning {
		next = nil
	}
	s.inbox = append(s.inbox, message{c: c, r: r, next: next})
	s.mu.Unlock()
	s.poke()
	return next != nil
}

// release tells a goroutine waiting on next, if any, to end.
func release(next chan *run) {
	if next != nil {
		next <- nil
	}
}
