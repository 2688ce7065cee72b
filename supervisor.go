package shepherd

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/multierr"
)

// This file owns the Supervisor type and its life: NewSupervisor, Add,
// Stop, Run, the setup of a run (begin) and the main loop (supervise),
// which waits on the mailbox alone and hands each message to settle. The
// loop's state has one owner at a time, the holder of own: the loop, and,
// while the loop waits with nothing in the mailbox, an ending run deciding
// its own exit by the same rules (rerun.go).

// A Supervisor runs long-lived services as one unit: it starts them in the
// order they were added, each once the previous one is ready; when one
// fails, or the supervisor is asked to stop, it stops them one at a time in
// reverse order within a shutdown budget; and it reports every failure,
// panic and service that refused to stop.
//
// A Supervisor is itself a Service, so supervisors nest into trees. Paths
// name each service from the root: a service "reports" added to a
// supervisor that runs as the service "workers" of the root supervisor
// "app" has the path "app/workers/reports".
//
// Create a Supervisor with NewSupervisor, Add its services, and call Run.
type Supervisor struct {
	name string
	cfg  supervisorConfig

	mu        sync.Mutex
	state     supState
	path      string
	tree      string // the tree's identity, its goroutines' labelTree; set by Run under mu
	children  []*child
	names     map[string]bool
	wake      chan struct{} // a message was posted or a service added; capacity 1
	inbox     []message     // messages for the loop, oldest first from inboxHead
	inboxHead int
	open      bool       // Run takes messages: set by begin, cleared by closeMailbox
	added     []*child   // services added while running, not yet started
	removals  []*removal // Remove requests waiting for the loop
	removeBy  time.Time  // the deadline of the removal under way, if any
	// parentLingers: the parent's shutdown stops this run and looks for
	// leftovers below it, so this Run need not.
	parentLingers bool
	rebudget      chan struct{}                    // a stop request or Stop deadline may have moved the shutdown deadline; capacity 1
	stopCh        chan struct{}                    // closed by Stop
	stopBy        time.Time                        // deadline given to Stop, if any
	stopAt        time.Time                        // when the stop was requested, if it was
	done          chan struct{}                    // closed when Run returns
	since         time.Time                        // when state last changed, for Snapshot
	lastErr       error                            // what the last Run returned
	sampler       atomic.Pointer[GoroutineSampler] // the sampler of this tree, if any, whose trends DebugHandler shows

	// own guards the fields below: the goroutine in Run holds it except
	// while it waits for a message, and an ending run may take it then to
	// decide its own exit (see rerun.go).
	own sync.Mutex
	// Fields below are owned by the holder of own.
	unsure       []*child  // stopped, but their Stop ran out of time; see sayOnce
	decidedAt    time.Time // the time of the last exit decided; see exited
	finishedUpTo int       // services before this index are done for good; see finished
	ev           *events
	delivery     *deliverer      // the deliverer this Run started, if it set a sink; under mu
	seq          *sequence       // the order of the tree's events, shared by its deliverers; under mu
	base         context.Context // what every child's context derives from
	rnd          *rand.Rand
	restarts     intensity
	failure      error // first failure, then later ones
	// abandoned holds the stuck reports of runs that a restart went past:
	// their goroutines still run, so Run's result must name them.
	abandoned []*StuckError
	hookErr   error           // failures of this supervisor's OnEvent hook not yet taken; under mu
	hookFail  atomic.Bool     // hookErr is set: spares the main loop the lock on every turn
	runCtx    context.Context // the context Run was given
	started   time.Time       // when Run last started; under mu
	cap       *taskCap        // MaxTasks of this supervisor, or of the nearest above
	woke      bool            // a stop in progress took a wake meant for the main loop
	turns     int             // times the main loop woke for a message; rerun_internal_test reads it
}

type supState int

const (
	supIdle supState = iota
	supRunning
	supStopping
	supDone   // Run returned; it may run again
	supClosed // Stop was called before Run; Run returns ErrClosed
)

// NewSupervisor returns a Supervisor called name, with no services yet. The
// name is the root of the paths when the supervisor runs on its own; run as
// a service of another supervisor, it takes that service's path instead.
//
// NewSupervisor panics if name is empty or contains "/", or if an option is
// out of range.
func NewSupervisor(name string, opts ...SupervisorOption) *Supervisor {
	if name == "" {
		panic("shepherd: NewSupervisor with an empty name; name it after the program or subsystem, like \"app\"")
	}
	if strings.Contains(name, "/") {
		panic("shepherd: NewSupervisor(" + quote(name) + "): a name contains no \"/\", which separates the parts of a path; " +
			"name it after the program or subsystem, like \"app\", and nest supervisors with Add")
	}
	cfg := supervisorConfig{
		shutdownTimeout: defaultShutdownTimeout,
		maxRestarts:     defaultMaxRestarts,
		restartPeriod:   defaultRestartPeriod,
	}
	for _, o := range opts {
		o.applySupervisor(&cfg)
	}
	switch {
	case cfg.shutdownTimeout <= 0:
		panic("shepherd: supervisor " + quote(name) + ": ShutdownTimeout(" + cfg.shutdownTimeout.String() + ") must be positive")
	case cfg.maxRestarts < 0 || cfg.restartPeriod <= 0:
		panic("shepherd: supervisor " + quote(name) + ": MaxRestarts(" + strconv.Itoa(cfg.maxRestarts) + ", " + cfg.restartPeriod.String() +
			") needs n >= 0 and a positive period")
	case cfg.drainDelay < 0 || cfg.drainDelay >= cfg.shutdownTimeout:
		panic("shepherd: supervisor " + quote(name) + ": DrainDelay(" + cfg.drainDelay.String() + ") must be at least 0 and less than the ShutdownTimeout (" +
			cfg.shutdownTimeout.String() + "), which it is part of")
	case cfg.maxTasks < 0 || (cfg.maxTasksSet && cfg.maxTasks == 0):
		panic("shepherd: supervisor " + quote(name) + ": MaxTasks(" + strconv.Itoa(cfg.maxTasks) + ") must be at least 1; omit it for no cap")
	case cfg.strategy < OneForOne || cfg.strategy > RestForOne:
		panic("shepherd: supervisor " + quote(name) + ": unknown " + cfg.strategy.String())
	}
	return &Supervisor{
		name:     name,
		cfg:      cfg,
		names:    map[string]bool{},
		wake:     make(chan struct{}, 1),
		rebudget: make(chan struct{}, 1),
	}
}

// Add adds svc to the supervisor as the service called name, to start when
// Run is called. Services start in the order they were added, each once the
// one before it is ready, and stop in reverse order.
//
// Add wires a tree before it runs, and cannot fail: it panics if name is
// empty, contains "/", or is already taken, if svc is nil (a nil
// *Supervisor included) or a supervisor that contains s, if an option is
// out of range, if s was not made by NewSupervisor, or if Run or Stop was
// called (a service added to a running tree may be refused: use
// StartService, whose error says whether it will run).
func (s *Supervisor) Add(name string, svc Service, opts ...ServiceOption) {
	_ = s.add("Add", name, svc, opts)
}

// StartService adds svc to the supervisor as the service called name and,
// if the supervisor is running, starts it at once, after the services added
// before it; it is stopped before them. If the supervisor begins to stop at
// that moment, svc may never start (Snapshot shows it idle). Once the
// supervisor is stopping or has stopped, StartService returns an error
// wrapping ErrClosed and svc never runs. Before Run, it adds svc like Add
// and returns nil.
//
// StartService panics for the same misuse as Add, except that it may be
// called at any time.
func (s *Supervisor) StartService(name string, svc Service, opts ...ServiceOption) error {
	return s.add("StartService", name, svc, opts)
}

// add is Add and StartService; only StartService may be called once the
// supervisor has run.
func (s *Supervisor) add(method, name string, svc Service, opts []ServiceOption) error {
	call := method + "(" + quote(name)
	s.mustBeMade(call + ")")
	if sub, ok := svc.(*Supervisor); ok && sub == nil {
		panic("shepherd: supervisor " + quote(s.name) + ": " + call + ", (*Supervisor)(nil)): the service is a nil *Supervisor; create it with shepherd.NewSupervisor")
	}
	if sub, ok := svc.(*Supervisor); ok && sub.contains(s) {
		panic("shepherd: supervisor " + quote(s.name) + ": " + call + "): the service is this supervisor or contains it; a tree cannot hold itself")
	}
	cfg := serviceConfig{backoff: defaultBackoff}
	for _, o := range opts {
		o.applyService(&cfg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case name == "" || strings.Contains(name, "/"):
		panic("shepherd: supervisor " + quote(s.name) + ": " + call +
			"): a service name must be non-empty and contain no \"/\"; it becomes part of the service's path")
	case svc == nil:
		panic("shepherd: supervisor " + quote(s.name) + ": " + call + ", nil): pass the service to run")
	case s.names[name]:
		panic("shepherd: supervisor " + quote(s.name) + ": " + call + "): a service with that name was already added; names must be unique")
	case cfg.restart < Never || cfg.restart > Always:
		panic("shepherd: supervisor " + quote(s.name) + ": " + call + "): unknown " + cfg.restart.String())
	case method == "Add" && s.state != supIdle:
		panic("shepherd: supervisor " + quote(s.name) + ": " + call + ") after Run or Stop was called: use StartService, whose error says whether the service will run")
	}
	cfg.backoff.validate(s.name, name)
	if s.state >= supStopping {
		return &scopedError{"shepherd: supervisor " + quote(s.name) + ": " + call +
			") after the supervisor began to stop; add services before Run, or while it runs", ErrClosed}
	}
	c := &child{sup: s, name: name, svc: svc, cfg: cfg, signals: readyTimeout(svc, cfg)}
	c.decidable = c.signals == 0 && scopeFor(s.cfg.strategy) == scopeOne
	s.names[name] = true
	// An append in place is safe for snapshotChildren's callers, which
	// read the old slice without the lock: it writes past their length.
	s.children = append(s.children, c)
	if s.state == supRunning {
		c.path = joinPath(s.path, name)
		c.view.path = c.path
		c.pendingStart = true
		s.added = append(s.added, c)
		s.poke()
	}
	return nil
}

// mustBeMade panics when s is not a supervisor NewSupervisor made, such as
// new(Supervisor): it has no name and no configuration to run with.
func (s *Supervisor) mustBeMade(method string) {
	if s == nil || s.wake == nil {
		panic("shepherd: Supervisor." + method + " on a Supervisor not made by NewSupervisor; create it with shepherd.NewSupervisor(name)")
	}
}

// contains reports whether target is s or a supervisor somewhere below it.
func (s *Supervisor) contains(target *Supervisor) bool {
	if s == target {
		return true
	}
	for _, c := range s.snapshotChildren() {
		if sub, ok := c.svc.(*Supervisor); ok && sub.contains(target) {
			return true
		}
	}
	return false
}

// signalsReady reports true: a Supervisor calls Ready once all its services
// are ready, so a parent supervisor starts the next service only then.
func (s *Supervisor) signalsReady() bool { return true }

// budgetChanged tells a stop in progress to read its deadline again.
func (s *Supervisor) budgetChanged() {
	select {
	case s.rebudget <- struct{}{}:
	default:
	}
}

// poke wakes the goroutine in Run.
func (s *Supervisor) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Stop asks Run to stop every service and return, and waits for Run to
// return or for ctx to be done. A deadline on ctx caps the shutdown budget,
// also when the supervisor is already stopping. Stop before Run makes the
// next Run return ErrClosed at once (a parent that stops a child supervisor
// before it ran); Stop after Run returned does nothing. Stop has no
// result: the result of the stop is what Run returns.
//
// Called from a Logger or OnEvent hook of the supervisor's tree, Stop asks
// for the stop and returns at once: Run waits for the hook to return, so
// Stop cannot wait for Run.
//
// Stop panics if ctx is nil or s was not made by NewSupervisor.
func (s *Supervisor) Stop(ctx context.Context) {
	s.mustBeMade("Stop")
	if ctx == nil {
		panic("shepherd: supervisor " + quote(s.name) + ": Stop(nil): pass a context; its deadline caps the shutdown budget, context.Background() for none")
	}
	s.mu.Lock()
	switch s.state {
	case supIdle:
		s.state, s.since = supClosed, time.Now()
		s.mu.Unlock()
		return
	case supClosed, supDone:
		s.mu.Unlock()
		return
	case supRunning:
		s.state, s.since = supStopping, time.Now()
		if s.stopAt.IsZero() {
			s.stopAt = time.Now()
		}
		close(s.stopCh)
	}
	if lingers, _ := ctx.Value(parentLingersKey{}).(bool); lingers {
		s.parentLingers = true
	}
	// Running or already stopping: a deadline caps the budget either way.
	if d, ok := ctx.Deadline(); ok && (s.stopBy.IsZero() || d.Before(s.stopBy)) {
		s.stopBy = d
	}
	done := s.done
	s.mu.Unlock()
	s.budgetChanged()
	s.poke() // the loop waits on its mailbox alone
	if s.deliversHere() {
		// Called from a Logger or OnEvent hook of this tree: Run waits for
		// the sink to return before it returns, so waiting here would wait
		// for ourselves.
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// deliversHere reports whether the caller is the delivery goroutine of
// this supervisor or of one below it, that is, a Logger or OnEvent hook
// that Run will wait for.
func (s *Supervisor) deliversHere() bool {
	s.mu.Lock()
	d, seq := s.delivery, s.seq
	s.mu.Unlock()
	if d.onThisGoroutine() {
		return true
	}
	if d != nil && seq.heldBy(goid()) {
		// A sink of another supervisor of the tree: this Run's deliverer
		// may be waiting for it to return before it can finish.
		return true
	}
	for _, c := range s.snapshotChildren() {
		if sub, ok := c.svc.(*Supervisor); ok && sub.deliversHere() {
			return true
		}
	}
	return false
}

// Run starts the services and supervises them until ctx is done, Stop is
// called, a service fails without a restart policy that covers it, or every
// service has finished. It then stops the services still running in reverse
// order and returns.
//
// Run returns nil when the services were stopped on request (ctx done or
// Stop) or all finished, and every one stopped cleanly. Otherwise it returns
// the first failure first, combined with later independent failures, errors
// from Stop methods, and a *StuckError for services that did not return
// within the shutdown budget; each names its service's path. Errors that
// only echo the stop (context.Canceled, http.ErrServerClosed) are dropped.
// When a service fails before it is ready, Run stops those already started
// and returns that failure at once. A ctx that is already done starts
// nothing.
//
// Once Run has returned it may be called again, which starts the same
// services afresh: that is how a parent supervisor restarts a child
// supervisor. Calling Run while it runs returns an error.
//
// Run panics if ctx is nil or s was not made by NewSupervisor.
func (s *Supervisor) Run(ctx context.Context) error {
	s.mustBeMade("Run")
	if ctx == nil {
		panic("shepherd: supervisor " + quote(s.name) + ": Run(nil): pass a context; its cancellation stops the supervisor")
	}
	s.mu.Lock()
	switch s.state {
	case supClosed:
		s.state = supIdle // the Stop applied to this Run only
		s.mu.Unlock()
		return &scopedError{"shepherd: supervisor " + quote(s.name) + ": Stop was called before Run, so this Run starts nothing", ErrClosed}
	case supRunning, supStopping:
		s.mu.Unlock()
		return errors.New("shepherd: supervisor " + quote(s.path) + ": Run called while it is running; a Supervisor runs one Run at a time")
	}
	// A service stuck in the last run is still running: starting it again
	// would run two copies, so the supervisor cannot run until it returns.
	var stuck []string
	for _, c := range s.children {
		if c.cur != nil && !closed(c.cur.done) {
			stuck = append(stuck, quote(c.path))
		}
	}
	if len(stuck) > 0 {
		s.mu.Unlock()
		return errors.New("shepherd: supervisor " + quote(s.path) + " cannot run again: " + strings.Join(stuck, ", ") +
			" did not stop in its last run and is still running")
	}
	ctx = s.begin(ctx)
	done := s.done
	// The initial set is taken under the same lock that makes Add mark new
	// services pendingStart, so no service is in both.
	initial := append([]*child(nil), s.children...)
	s.mu.Unlock()

	s.own.Lock()
	s.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	s.restarts = intensity{max: s.cfg.maxRestarts, period: s.cfg.restartPeriod}
	s.failure, s.abandoned, s.runCtx, s.decidedAt = nil, nil, ctx, time.Time{}
	// The shutdown budget runs from the moment ctx is done, even if the
	// supervisor is busy restarting something then.
	defer context.AfterFunc(ctx, func() {
		s.mu.Lock()
		if s.stopAt.IsZero() {
			s.stopAt = time.Now()
		}
		s.mu.Unlock()
		s.budgetChanged()
		s.poke() // the loop waits on its mailbox alone
	})()

	err := s.supervise(ctx, initial)
	s.closeMailbox()
	s.own.Unlock()
	s.mu.Lock()
	s.state, s.since, s.lastErr = supDone, time.Now(), err
	s.mu.Unlock()
	close(done)
	return err
}

// begin sets up a run under mu: its state, its place in the tree (path,
// tree identity, sinks, task cap) and its services' paths. It returns ctx
// with the tree's label if this supervisor is a root.
func (s *Supervisor) begin(ctx context.Context) context.Context {
	s.state, s.since, s.hookErr, s.parentLingers = supRunning, time.Now(), nil, false
	s.hookFail.Store(false)
	s.started = s.since
	s.stopCh, s.done, s.stopBy, s.stopAt = make(chan struct{}), make(chan struct{}), time.Time{}, time.Time{}
	parent := scopeOf(ctx)
	s.path = s.name
	if parent != nil && parent.path != "" {
		s.path = parent.path
	}
	// A tree's identity is set once, by its root, and inherited below.
	if id, ok := pprof.Label(ctx, labelTree); ok && parent != nil {
		s.tree = id
	} else {
		s.tree = newTreeID(s)
		ctx = treeContext(ctx, s.tree)
	}
	// One order for the events of the whole tree, whichever supervisors
	// in it set sinks: see sequence.
	s.seq = nil
	if parent != nil {
		s.seq = parent.seq
	}
	if s.seq == nil {
		s.seq = newSequence()
	}
	s.ev, s.delivery = s.events(parent)
	s.cap = nil
	if parent != nil {
		s.cap = parent.cap
	}
	if s.cfg.maxTasks > 0 {
		s.cap = &taskCap{slots: make(chan struct{}, s.cfg.maxTasks), parent: s.cap}
	}
	for _, c := range s.children {
		c.path = joinPath(s.path, c.name)
		c.view.path = c.path
		c.cur, c.restartDue, c.pendingStart, c.attempt, c.base = nil, nil, false, 0, nil
	}
	clear(s.inbox)
	s.inbox, s.inboxHead, s.added, s.finishedUpTo, s.open = s.inbox[:0], 0, nil, 0, true
	// Children do not inherit ctx's cancellation: the supervisor stops them
	// itself, one at a time, in reverse order. Under mu: earlyFailure reads
	// it from the goroutines of nested supervisors.
	s.base = context.WithoutCancel(ctx)
	return ctx
}

// events returns where this supervisor reports: its own Logger and OnEvent,
// falling back to its parent's for the ones it lacks. A supervisor that sets
// a sink of its own starts a deliverer for its Run; one that sets none posts
// to its parent's.
func (s *Supervisor) events(parent *scope) (*events, *deliverer) {
	var inherited *events
	if parent != nil {
		inherited = parent.ev
	}
	if s.cfg.log == nil && s.cfg.hook == nil {
		return inherited, nil
	}
	ev := &events{log: s.cfg.log, hook: s.cfg.hook, logOwner: s, hookOwner: s}
	if ev.log == nil && inherited != nil {
		ev.log, ev.logOwner = inherited.log, inherited.logOwner
	}
	if ev.hook == nil && inherited != nil {
		ev.hook, ev.hookOwner = inherited.hook, inherited.hookOwner
	}
	return ev, newDeliverer(ev, s.seq, s.tree, s.path)
}

// supervise is Run's body: start, watch, stop.
func (s *Supervisor) supervise(ctx context.Context, initial []*child) error {
	if err := s.startSet(ctx, initial, true, time.Time{}); err != nil {
		s.fail(err)
		return s.shutdown(ctx)
	}
	if s.failure != nil || s.stopping(ctx) {
		// The start did not complete: the parent must not start the next
		// service on the strength of this one.
		return s.shutdown(ctx)
	}
	Ready(ctx)
	for {
		if s.hookFail.Load() {
			s.fail(s.takeHookErr())
		}
		if s.failure != nil || s.finished() || s.stopping(ctx) {
			return s.shutdown(ctx)
		}
		// Everything the loop acts on pokes wake: a message, an Add, a
		// Remove, Stop and ctx's cancellation (see Run). One channel is
		// cheaper to wait on than a select over four, on every restart.
		s.own.Unlock()
		<-s.wake
		s.own.Lock()
		s.turns++
		if !s.settle(ctx, false) {
			s.startAdded(ctx)
			s.removeRequested()
		}
	}
}

// snapshotChildren returns the services. Add never changes the slice it
// returns, only replaces it, so the caller may read it without the lock.
func (s *Supervisor) snapshotChildren() []*child {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.children
}

// finished reports whether no service runs and none will be started again.
// It resumes where it last found a service still active: the services
// before that one are done, and only a restart of a set (which resets
// finishedUpTo) starts a finished service again, so a call costs O(1)
// amortized.
func (s *Supervisor) finished() bool {
	all := s.snapshotChildren()
	for ; s.finishedUpTo < len(all); s.finishedUpTo++ {
		if c := all[s.finishedUpTo]; c.cur != nil || c.restartDue != nil || c.pendingStart {
			return false
		}
	}
	return true
}

// hookFailed records that the OnEvent hook of this supervisor panicked or
// called runtime.Goexit, and wakes Run to take it as a failure. It may be
// called from any goroutine of the tree.
func (s *Supervisor) hookFailed(err error) {
	s.mu.Lock()
	s.hookErr = multierr.Append(s.hookErr, err)
	s.hookFail.Store(true)
	s.mu.Unlock()
	s.poke()
}

func (s *Supervisor) takeHookErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.hookErr
	s.hookErr = nil
	s.hookFail.Store(false)
	return err
}

// fail records a failure of the supervisor: the first one is what Run
// reports first.
func (s *Supervisor) fail(err error) {
	if s.failure == nil {
		// Tell the supervisor above at once: it need not wait for this
		// one's stop to start its own.
		reportFailure(s.base, err)
	}
	s.failure = multierr.Append(s.failure, err)
}

// stopping reports whether the supervisor was asked to stop.
func (s *Supervisor) stopping(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	select {
	case <-s.stopCh:
		return true
	default:
		return false
	}
}

// startSet starts the given services in order, each after the previous one
// is ready. During the initial start (and for services added while
// running) a service that fails before it is ready, or is not ready in
// time, is a start failure: startSet returns it and the supervisor stops.
// During a restart, those are exits like any other, for the restart policy
// to judge. startSet returns nil when the start completed or was cut short.
//
// now, if not zero, is the time of the first start (an immediate restart
// passes the time its last run ended); the others read the clock.
func (s *Supervisor) startSet(ctx context.Context, set []*child, initial bool, now time.Time) error {
	for _, c := range set {
		if s.stopping(ctx) || s.failure != nil {
			return nil
		}
		start := now
		if start.IsZero() {
			start = time.Now()
		}
		now = time.Time{}
		if !initial && (c.restartDue == nil || (c.restartDue != &dueNow && c.restartDue.After(start))) {
			continue // rescheduled by a sibling's failed restart meanwhile
		}
		outcome, err := s.startChild(ctx, c, start)
		switch outcome {
		case startTimedOut:
			if initial {
				// The run goes on: shutdown stops it and awaits it like
				// every other.
				s.failed(c, err)
				return err
			}
			if serr := s.stopSet([]*child{c}, errRestart, time.Now(), true); serr != nil {
				return serr
			}
			s.exited(ctx, c, err, start, time.Now())
		case startExited:
			if initial && err != nil && !errors.Is(err, ErrDoNotRestart) && !errors.Is(err, ErrStopTree) {
				err = attribute(c.path, err)
				s.failed(c, err)
				return err
			}
			s.exited(ctx, c, err, start, time.Now())
		}
	}
	return nil
}

// startAdded starts the services added while the supervisor runs.
func (s *Supervisor) startAdded(ctx context.Context) {
	s.mu.Lock()
	added := s.added
	s.added = nil
	s.mu.Unlock()
	for _, c := range added {
		s.mu.Lock()
		c.pendingStart = false
		s.mu.Unlock()
		if err := s.startSet(ctx, []*child{c}, true, time.Time{}); err != nil {
			s.fail(err)
			return
		}
	}
}
