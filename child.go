package shepherd

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"time"
)

// This file owns a service's place in a supervisor (child) and its runs
// (run): starting a run and waiting for it to be ready, and exited, which
// carries out decide's verdict on a run that ended (failing, finishing,
// restarting at once or after a backoff, restarting a set).

// A child is one service of a Supervisor.
type child struct {
	sup     *Supervisor // whose service it is
	name    string
	path    string
	svc     Service
	cfg     serviceConfig
	signals time.Duration // how long to wait for svc to call Ready (AwaitReady); 0 if it does not
	// decidable: every verdict on an exit of this service is carried out
	// without waiting for another goroutine (it signals no readiness, and
	// a restart takes it alone), so the goroutine of its ended run may
	// decide it (see rerun.go).
	decidable bool

	// Owned by the holder of the supervisor's own (its Run goroutine, or
	// an ending run deciding its exit; see rerun.go); cur and restartDue are
	// written under the supervisor's mu, for Run's check that no run is
	// left and for Remove.
	cur          *run            // the current run, nil when not running
	base         context.Context // what each run's context derives from: labels and scope
	restartDue   *time.Time      // when a pending restart is due
	dueTimer     *time.Timer     // posts the message that starts it then
	pendingStart bool            // added while running, not yet started
	attempt      int             // restarts since the last stable run
	restarts     int             // restarts in total
	idle         chan *run       // the goroutine of the run whose exit is being decided, waiting for another; see rerun.go

	view childView // what Snapshot shows; under the supervisor's mu
}

// childView is what Snapshot shows of a service. The loop publishes each
// change to it under the supervisor's mu, O(1) per change, and never
// reads it; Snapshot copies it under the same lock and reads none of the
// loop's own fields.
type childView struct {
	path     string
	state    State
	since    time.Time
	started  time.Time // when the current or last run started
	restarts int
	lastErr  error
}

// A run is one call of a service's Run. Its context carries it under
// runKey, which is how Ready and a nested supervisor's early failure find
// the supervisor running it.
type run struct {
	cancel  context.CancelCauseFunc
	ready   chan struct{} // closed once the service is ready
	done    chan struct{} // closed when Run returned
	err     error         // what Run returned; read after done
	start   time.Time
	endedAt time.Time // when Run returned; read after done
	path    string    // c.path for this run; c.path may change when Run runs again
	c       *child    // whose run it is
	rc      runContext

	readied atomic.Bool // ready is closed, or being closed
	stopped bool        // the supervisor asked it to stop; written under mu
	// A nested supervisor reports its first failure the moment it has one,
	// before its own stop is over, so that the failure reaches the root at
	// once and in the order the failures happened. early is written under
	// the supervisor's mu; earlyTaken marks it as the supervisor's failure.
	earlyTaken bool
	early      error

	st *stopCall // the call of its Stop method; nil if not a Stopper or not asked
}

// A stopCall is the call of a Stopper's Stop method made to stop a run:
// few runs have one, so it is kept apart from the run.
type stopCall struct {
	done chan struct{} // closed when Stop returned
	err  error         // what Stop returned; read after done
}

// stopDone is closed when the run's Stop returned; nil if none was called.
func (r *run) stopDone() chan struct{} {
	if r.st == nil {
		return nil
	}
	return r.st.done
}

// stopErr is what the run's Stop returned, once stopDone is closed.
func (r *run) stopErr() error {
	if r.st == nil {
		return nil
	}
	return r.st.err
}

type runKey struct{}

// ctx returns the run's context, which lives inside the run.
func (r *run) ctx() context.Context { return &r.rc }

// runContext is a run's context: its cancellable context, answering
// Value(runKey{}) with the run. It lives inside the run, so a run's
// context costs one allocation (the cancellable context) rather than two.
type runContext struct {
	context.Context
	r *run
}

func (c *runContext) Value(key any) any {
	if _, ok := key.(runKey); ok {
		return c.r
	}
	return c.Context.Value(key)
}

// alreadyReady is the ready channel of services that do not signal
// readiness: they are ready as soon as they start.
var alreadyReady = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

func (r *run) signalReady() {
	if r.readied.CompareAndSwap(false, true) {
		close(r.ready)
	}
}

// reportFailure tells the supervisor running the service that owns ctx
// that the service has failed with err and is stopping.
func reportFailure(ctx context.Context, err error) {
	if r, ok := ctx.Value(runKey{}).(*run); ok {
		r.c.sup.earlyFailure(r, err)
	}
}

// A failure that the service's policy does not restart will be this
// supervisor's own failure once its loop takes the message: it is passed
// up at once, from here, so that every supervisor up to the root hears of
// it before anything that happens because of it (a sibling that fails on
// seeing its event). Arrival order then is causal order at every level.
func (s *Supervisor) earlyFailure(r *run, err error) {
	err = attribute(r.path, err)
	s.mu.Lock()
	first := r.early == nil
	if first {
		r.early = err
		s.inbox = append(s.inbox, message{c: r.c, r: r, early: true})
	}
	base, stopped := s.base, r.stopped
	s.mu.Unlock()
	if !first {
		return
	}
	if !r.c.restartsAfter(err) && !stopped && base != nil {
		reportFailure(base, err)
	}
	s.poke()
}

// exitError returns what a run that ended on its own returned, less the
// early failure already taken as the supervisor's; ok is false when
// nothing is left to judge.
func (s *Supervisor) exitError(r *run) (err error, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !r.earlyTaken {
		return r.err, true
	}
	err = without(r.err, r.early)
	return err, err != nil
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (s *Supervisor) setState(c *child, st State, err error) {
	s.setStateAt(c, st, err, time.Now())
}

// setStateAt records a state change at now. err, the failure that caused
// it, is kept as the service returned it: Snapshot names the service in it
// when it is read, which spares a restart loop an allocation.
func (s *Supervisor) setStateAt(c *child, st State, err error, now time.Time) {
	s.mu.Lock()
	c.view.state, c.view.since = st, now
	if err != nil {
		c.view.lastErr = err
	}
	s.mu.Unlock()
}

// The ways a start can end.
type startOutcome int

const (
	startReady    startOutcome = iota // ready; exits later are the main loop's
	startExited                       // Run returned before it was ready
	startTimedOut                     // not ready within the start timeout; still running
	startAborted                      // a stop request or a fatal sibling exit cut the wait short
)

// startChild starts one run of c and waits until it is ready. When Run
// returned before it was ready, the outcome is startExited and err is what
// Run returned; when the start timeout passed, err names it.
//
// now is the time of the start: an immediate restart passes the time the
// last run ended, which spares it a second reading of the clock.
func (s *Supervisor) startChild(ctx context.Context, c *child, now time.Time) (startOutcome, error) {
	r := &run{c: c, ready: alreadyReady, done: make(chan struct{}), start: now, path: c.path}
	if c.signals > 0 {
		r.ready = make(chan struct{})
	} else {
		r.readied.Store(true)
	}
	if c.base == nil {
		// Labels and scope are the same for every run: built once.
		c.base = scopedContext(s.base, &scope{path: c.path, ev: s.ev, cap: s.cap, seq: s.seq})
	}
	rctx, cancel := context.WithCancelCause(c.base)
	r.rc = runContext{Context: rctx, r: r}
	r.cancel = cancel
	// A service that does not signal readiness is ready as it starts:
	// one state change, not two.
	st := StateRunning
	if c.signals > 0 {
		st = StateStarting
	}
	s.mu.Lock()
	c.cur, c.restartDue = r, nil
	c.view.state, c.view.since, c.view.started = st, now, now
	s.mu.Unlock()
	s.ev.emit(c.base, Event{State: StateStarting, Path: c.path, Attempt: c.restarts, Time: now})
	s.launch(c, r)
	if c.signals == 0 {
		s.ev.emit(c.base, Event{State: StateRunning, Path: c.path, Attempt: c.restarts, Time: now})
		return startReady, nil
	}

	timeout := time.NewTimer(c.signals)
	defer timeout.Stop()
	// A wake taken here that is not a fatal exit is handed back to the main
	// loop once the start is over; handing it back at once would spin.
	woke := false
	defer func() {
		if woke {
			s.poke()
		}
	}()
	for {
		select {
		case <-r.ready:
			s.readied(c, time.Now())
			return startReady, nil
		case <-r.done:
			if closed(r.ready) {
				// Ready first, then returned: the exit is the main loop's
				// business, not a start failure.
				s.readied(c, time.Now())
				return startReady, nil
			}
			s.mu.Lock()
			c.cur = nil
			s.mu.Unlock()
			return startExited, r.err
		case <-timeout.C:
			return startTimedOut, &TaskError{Path: c.path, Err: errors.New("not ready after " + c.signals.String() + " (AwaitReady)")}
		case <-ctx.Done():
			return startAborted, nil
		case <-s.stopCh:
			return startAborted, nil
		case <-s.wake:
			// Another service exited while this one was starting: a failure
			// that nothing restarts stops the start; anything else waits for
			// the main loop.
			woke = true
			if s.settle(ctx, true) {
				return startAborted, nil
			}
		}
	}
}

func (s *Supervisor) readied(c *child, now time.Time) {
	s.setStateAt(c, StateRunning, nil, now)
	s.ev.emit(c.base, Event{State: StateRunning, Path: c.path, Attempt: c.restarts})
}

func (s *Supervisor) failed(c *child, err error) { s.failedAt(c, err, time.Now()) }

// failedAt records that c failed with err at now and reports it.
func (s *Supervisor) failedAt(c *child, err error, now time.Time) {
	s.setStateAt(c, StateFailed, err, now)
	if s.ev != nil {
		s.ev.failedAt(c.base, c.path, attribute(c.path, err), now)
	}
}

// exited decides what happens after a run of c ended with err while the
// supervisor was running: finish it, restart it (and others, by strategy),
// or fail the supervisor.
//
// started and ended are when the run started and ended; ended is also the
// time of the decision, so a restart reads the clock no more.
func (s *Supervisor) exited(ctx context.Context, c *child, err error, started, ended time.Time) {
	// The decision's time is when the run ended, read once by its
	// goroutine; an exit taken late (the loop was stopping a set) is not
	// counted before one already counted, so the window's times only grow.
	now := ended
	if now.Before(s.decidedAt) {
		now = s.decidedAt
	}
	s.decidedAt = now
	v := decide(exitFacts{err: err, policy: c.cfg.restart, strategy: s.cfg.strategy,
		stopping: s.stopping(ctx), limitHit: s.restarts.full(now)})
	switch {
	case v.kind == stopTree || v.kind == fail:
		// The failure is recorded, and passed up, before anyone can hear
		// of it: what happens because of it then comes after it.
		s.fail(attribute(c.path, err))
		if v.kind == fail {
			s.failed(c, err)
			return
		}
		s.setState(c, StateStopped, err)
		s.ev.emit(c.base, Event{State: StateStopped, Path: c.path, Err: err})
		return
	case v.failed:
		s.failedAt(c, err, now)
	default:
		s.setStateAt(c, StateStopped, nil, now)
		s.ev.emit(c.base, Event{State: StateStopped, Path: c.path, Err: err})
	}
	if v.kind == finish {
		return
	}
	// Restarted or not, a run that left stuck goroutines behind must be
	// named when Run returns.
	s.keepStuck(err)
	switch v.kind {
	case hold:
		return // it would have been restarted: not a failure of the tree
	case escalate:
		s.fail(&RestartLimitError{
			Supervisor: s.path, Service: c.path,
			Restarts: s.cfg.maxRestarts, Period: s.cfg.restartPeriod,
			Last: err,
		})
		return
	}
	s.restarts.record(now)
	if ended.Sub(started) >= c.cfg.backoff.resetAfter() {
		c.attempt = 0
	}
	c.attempt++
	delay := c.cfg.backoff.delay(c.attempt, s.rnd)
	s.mu.Lock()
	c.restarts++
	c.view.restarts, c.view.state, c.view.since = c.restarts, StateRestarting, now
	s.mu.Unlock()
	// The event carries the time the restart was counted at.
	s.ev.emit(c.base, Event{State: StateRestarting, Path: c.path, Err: err, Attempt: c.restarts, Delay: delay, Time: now})

	if v.scope == scopeOne {
		if delay == 0 && c.signals == 0 {
			// Restart at once, without a trip through the timer. A
			// service that signals readiness takes the timer path: its
			// failures before it is ready would recurse through here.
			c.restartDue = &dueNow
			one := [1]*child{c}
			if err := s.startSet(ctx, one[:], false, now); err != nil {
				s.fail(err)
			}
			return
		}
		s.schedule([]*child{c}, now.Add(delay), delay)
		return
	}
	s.restartWith(ctx, c, v.scope, delay)
}

// restartWith restarts c with the other services of scope: they are
// stopped now, in reverse order, and started again with c once its delay
// has passed.
func (s *Supervisor) restartWith(ctx context.Context, c *child, scope restartScope, delay time.Duration) {
	set := s.restartSet(c, scope)
	others := slices.DeleteFunc(slices.Clone(set), func(o *child) bool { return o == c })
	stopErr := s.stopSet(others, errRestart, time.Now(), true)
	// A sibling that had returned on its own before it was asked is judged
	// by its own policy: its failure is not lost in the restart, and a
	// finished service is not brought back. It returned before the stop
	// could report anything, so its failure comes first.
	type leftover struct {
		c *child
		r *run
	}
	restart := set[:0:0]
	var leftovers []leftover
	for _, o := range set {
		r := o.cur
		switch fate(o == c, o.cfg.restart, stateOf(r)) {
		case drop:
			continue
		case rejoin:
			restart = append(restart, o)
			continue
		}
		s.mu.Lock()
		o.cur = nil
		s.mu.Unlock()
		s.keepStuck(r.err)
		if o.restartsAfter(r.err) {
			// Started again with the set, and its exit still reported:
			// a panic while a sibling held up the stop is not lost.
			if err, ok := s.exitError(r); ok {
				switch {
				case err != nil && !errors.Is(err, ErrDoNotRestart):
					s.failed(o, err)
				default:
					s.ev.emit(o.base, Event{State: StateStopped, Path: o.path, Err: err})
				}
			}
			restart = append(restart, o)
			continue
		}
		leftovers = append(leftovers, leftover{o, r})
	}
	// Judged in the order they ended, so the first failure comes first.
	slices.SortStableFunc(leftovers, func(a, b leftover) int { return a.r.endedAt.Compare(b.r.endedAt) })
	for _, l := range leftovers {
		if err, ok := s.exitError(l.r); ok {
			s.exited(ctx, l.c, err, l.r.start, l.r.endedAt)
		}
	}
	if stopErr != nil {
		s.fail(stopErr)
	}
	if s.failure != nil {
		return
	}
	s.finishedUpTo = 0 // finished services may be in the set
	s.schedule(restart, time.Now().Add(delay), delay)
}

// dueNow marks a restart that is due at once.
var dueNow time.Time

// errRestart is the cause given to services stopped so that they can be
// restarted along with a sibling.
var errRestart = errors.New("shepherd: restarting with a sibling")

// restartSet returns the services of scope around c, in Add order.
func (s *Supervisor) restartSet(c *child, scope restartScope) []*child {
	all := s.snapshotChildren()
	i := 0
	if scope == scopeRest {
		i = slices.Index(all, c)
	}
	if scope == scopeOne {
		return []*child{c}
	}
	lo, hi := restartSpan(scope, len(all), i)
	return all[lo:hi]
}

// stateOf returns where run r stands once a restart has stopped the
// others of its set.
func stateOf(r *run) runState {
	switch {
	case r == nil:
		return notRunning
	case r.stopped:
		return stoppedNow
	case closed(r.done):
		return returned
	}
	return stillLive
}

// schedule makes set due for a restart at due, delay from now. The
// timer's expiry is a message naming the set: the loop starts those of it
// still due then, in Add order, and finds nothing by scanning. A service
// rescheduled meanwhile (a sibling's restart moved it later, or it was
// started, stopped or removed) is skipped, so a stale expiry does nothing.
func (s *Supervisor) schedule(set []*child, due time.Time, delay time.Duration) {
	t := time.AfterFunc(delay, func() { s.post(message{set: set}) })
	s.mu.Lock()
	for _, c := range set {
		c.restartDue, c.dueTimer = &due, t
	}
	s.mu.Unlock()
}

// startDue starts the services of set whose restart is due, in Add order.
func (s *Supervisor) startDue(ctx context.Context, set []*child) {
	if err := s.startSet(ctx, set, false, time.Time{}); err != nil {
		s.fail(err)
	}
}

// restartsAfter reports whether c's policy restarts it after a run that
// returned err.
func (c *child) restartsAfter(err error) bool { return restarts(c.cfg.restart, err) }

// echoesStop reports whether err, returned by the Run of a service that
// was asked to stop, only repeats the request. ErrClosed comes from a
// Supervisor or Pool that was stopped before its Run began.
func echoesStop(r *run, err error) bool {
	return echoesStopCall(err) || echoes(r.ctx(), err) ||
		only(err, func(e error) bool { return echoesStopCall(e) || echoes(r.ctx(), e) })
}

// echoesStopCall reports whether err, returned by a Stop method, only
// repeats the request. A Stop that ran out of time is not an echo: it
// means the service was cut short.
func echoesStopCall(err error) bool {
	return only(err, func(e error) bool {
		return errors.Is(e, http.ErrServerClosed) || errors.Is(e, errRestart) || errors.Is(e, ErrClosed)
	})
}
