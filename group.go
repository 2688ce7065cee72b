package shepherd

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"go.uber.org/multierr"
)

// A Group runs a batch of tasks, each in its own goroutine, and waits for
// them. It is errgroup with the sharp edges removed: tasks have names, a
// panic becomes an error instead of a crash, and once the group's context is
// done no new task starts.
//
// The first task to fail (return a non-nil error, panic, or call
// runtime.Goexit) cancels the group's context with that failure as its
// cause, so the other tasks can stop early. Wait reports the first failure
// first, followed by any later failures that were not mere echoes of the
// cancellation.
//
// A Group must be created with NewGroup. Calls to Go and TryGo must happen
// before Wait returns: before Wait is called, or from inside a task of the
// same group. A task must not call Wait on its own group, which would wait
// for the task itself.
type Group struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	path   string
	ev     *events
	sem    chan struct{} // nil without Limit
	cap    *taskCap      // MaxTasks of the supervisors above, nil without

	weights *groupBudget // weighted capacity (weighted.go), nil without Budget

	tasks   taskCount
	refused atomic.Bool // a task was not started, or stopped early, because ctx was done

	// labels caches the task context of the last name used: building it
	// allocates, and batches usually reuse one name for many tasks.
	labels atomic.Pointer[taskLabels]

	mu       sync.Mutex
	errs     []error // failures, first one first; combined once, by Wait
	finished bool
	result   error
}

// taskLabels is what the tasks of one name share. It points back to the
// group so that starting a task captures two words (this and fn), the same
// as a plain go statement with a closure.
type taskLabels struct {
	g    *Group
	name string
	path string
	ctx  *taskCtx
}

// GroupOption configures a Group.
type GroupOption func(*groupConfig)

type groupConfig struct {
	limit    int
	limitSet bool

	budget    int64 // weighted capacity (weighted.go)
	budgetSet bool
}

// Limit bounds the number of tasks of the group that run at once to n. Go
// blocks while n tasks are running; TryGo returns false. n must be at
// least 1; to leave a group unbounded, omit Limit.
func Limit(n int) GroupOption {
	return func(c *groupConfig) { c.limit, c.limitSet = n, true }
}

// NewGroup returns a Group whose tasks run with a context derived from ctx.
// When ctx comes from a shepherd task or service, the group's tasks are
// named below it: a task "fetch" in a group created by the service
// "app/api" has the path "app/api/fetch".
//
// NewGroup panics if ctx is nil or Limit is less than 1.
func NewGroup(ctx context.Context, opts ...GroupOption) *Group {
	if ctx == nil {
		panic("shepherd: NewGroup(nil): nil context; pass context.Background() or the caller's context")
	}
	var cfg groupConfig
	for _, o := range opts {
		o(&cfg)
	}
	g := &Group{}
	if s := scopeOf(ctx); s != nil {
		g.path, g.ev, g.cap = s.path, s.ev, s.cap
	}
	if cfg.limitSet {
		if cfg.limit < 1 {
			panic("shepherd: NewGroup: Limit(" + strconv.Itoa(cfg.limit) + ") for " + groupName(g.path) +
				": a group needs at least one slot; omit Limit to leave it unbounded")
		}
		g.sem = make(chan struct{}, cfg.limit)
	}
	g.weights = newGroupBudget(&cfg, g.path)
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	return g
}

// Context returns the group's context: it is done when a task fails, when
// the parent context is done, or when Wait returns.
func (g *Group) Context() context.Context { return g.ctx }

// Go starts fn in a new goroutine owned by the group, as the task called
// name. fn receives a context that is cancelled when any task of the group
// fails or the parent context is done.
//
// With a Limit, Go blocks until a slot is free. Once the group's context is
// done, Go starts nothing and returns at once: Wait then reports the cause,
// so the skipped work is not mistaken for success.
//
// Go panics if the Group was not made by NewGroup, name is empty, fn is
// nil, or Wait has already returned (also when Go races a Wait called from
// outside the group and loses: the task would outlive Wait).
func (g *Group) Go(name string, fn func(ctx context.Context) error) {
	t := g.prepare("Go", name, fn)
	if g.sem != nil {
		// A free slot is the common case: a send that cannot block costs
		// a fraction of a select over two channels, which locks both.
		select {
		case g.sem <- struct{}{}:
		default:
			if !g.waitSlot() {
				g.refuse()
				return
			}
		}
	}
	if g.cap != nil && !g.cap.acquire(g.ctx.Done()) {
		g.release(false)
		g.refuse()
		return
	}
	g.start("Go", t, fn)
}

// waitSlot blocks until a slot of the Limit is free and takes it, or
// until the group's context is done; it reports whether it took one.
func (g *Group) waitSlot() bool {
	// A batch that fills its slots keeps Go waiting for one task after
	// another to end. Yielding once first lets a task that is about to end
	// give its slot back without Go parking in a select over two channels,
	// which costs more than the yield.
	runtime.Gosched()
	select {
	case g.sem <- struct{}{}:
		return true
	default:
	}
	select {
	case g.sem <- struct{}{}:
		return true
	case <-g.ctx.Done():
		return false
	}
}

// TryGo starts fn like Go if the group has a free slot, and reports whether
// it did. It returns false without blocking when the group is at its Limit
// or its context is done. It panics in the cases Go does.
func (g *Group) TryGo(name string, fn func(ctx context.Context) error) bool {
	t := g.prepare("TryGo", name, fn)
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
		default:
			return false
		}
	}
	if g.cap != nil && !g.cap.acquire(nil) {
		g.release(false)
		return false
	}
	return g.start("TryGo", t, fn)
}

// groupName names a group in a panic message: by its path under a
// supervisor, or as what it is when it has none.
func groupName(path string) string {
	if path == "" {
		return "a top-level group"
	}
	return "group " + quote(path)
}

// prepare checks a Go call and returns the task's labelled context.
func (g *Group) prepare(method, name string, fn func(context.Context) error) *taskLabels {
	if g.ctx == nil {
		panic("shepherd: Group." + method + "(" + quote(name) + ") on a Group not made by NewGroup; create it with shepherd.NewGroup(ctx)")
	}
	if g.tasks.closed() {
		g.lateGo(method, name)
	}
	if name == "" {
		panic("shepherd: Group." + method + " with an empty task name in " + groupName(g.path) +
			"; name every task so failures and stuck reports can say which one")
	}
	if fn == nil {
		panic("shepherd: Group." + method + "(" + quote(name) + ", nil) in " + groupName(g.path) +
			": fn is nil; pass the function the task runs")
	}
	t := g.labels.Load()
	if t == nil || t.name != name {
		path := joinPath(g.path, name)
		t = &taskLabels{g: g, name: name, path: path, ctx: newTaskCtx(g.ctx, scopedContext(g.ctx, &scope{path: path, ev: g.ev, cap: g.cap}))}
		g.labels.Store(t)
	}
	return t
}

// lateGo panics for a Go or TryGo that came after Wait returned.
func (g *Group) lateGo(method, name string) {
	panic("shepherd: Group." + method + "(" + quote(name) + ") after Wait returned in " + groupName(g.path) +
		"; start every task before Wait, or use a new Group")
}

// start runs fn once a slot, if any, is held; it gives the slot back and
// reports false when the group's context is already done.
//
// The task is counted before anything else is decided: a Go racing a Wait
// from outside either is counted first, and Wait waits for its task, or
// finds the count closed and panics. Checking first and counting after
// would leave a window for a task to start after Wait returned.
func (g *Group) start(method string, t *taskLabels, fn func(context.Context) error) bool {
	if !g.tasks.add() {
		g.release(true)
		g.lateGo(method, t.name)
	}
	if g.ctx.Err() != nil {
		g.release(true)
		g.refuse()
		g.tasks.done()
		return false
	}
	go t.run(fn, 0)
	return true
}

// run is the goroutine of one task; w is the weight it holds of the
// group's Budget (weighted.go), 0 for a task started by Go or TryGo.
func (t *taskLabels) run(fn func(context.Context) error, w int64) {
	g := t.g
	setLabels(t.ctx.Context)
	var err error
	returned := false
	defer func() {
		// A failure cancels the group before the slot is given back, so a
		// Go waiting for the slot sees the cancellation, not a free slot.
		switch {
		case !returned:
			// A panic or runtime.Goexit is a failure, even a panic with
			// the context's error as its value: it is never an echo.
			g.fail(t.ctx, t.path, exitError(t.path, recover()))
		case err == nil:
		case t.ctx.echoed(err) || echoes(t.ctx, err):
			// Tasks that stop because they were told to are not failures.
			// When a group is cancelled they all come here at once, most
			// returning ctx.Err(): echoed tells those by a comparison, and
			// neither test takes mu.
			g.refuse()
		default:
			g.fail(t.ctx, t.path, err)
		}
		g.release(true)
		if w != 0 {
			// Given back after the failure, if any, cancelled the group, so
			// that a waiting GoWeighted sees the cancellation rather than
			// free weight; and before the task is counted out, so that
			// nothing of it runs once Wait has returned.
			g.weights.sem.Release(w)
		}
		g.tasks.done()
	}()
	err = fn(t.ctx)
	returned = true
}

// release gives back a task's slot in the group's Limit and, with
// capped, in the MaxTasks of the supervisors above.
func (g *Group) release(capped bool) {
	if capped && g.cap != nil {
		g.cap.release()
	}
	if g.sem != nil {
		<-g.sem
	}
}

// refuse notes that some work did not run because ctx was done. When a
// group is cancelled many tasks note it at once: reading first spares them
// all but one write to a shared cache line.
func (g *Group) refuse() {
	if !g.refused.Load() {
		g.refused.Store(true)
	}
}

// fail records a task's failure, one that is not an echo of the group's
// cancellation; the first one cancels the group. Failures are kept in a
// slice and combined once, by Wait: combining them here would allocate a
// new combination for every failure of a batch that fails throughout.
func (g *Group) fail(ctx context.Context, path string, err error) {
	err = attribute(path, err)
	g.mu.Lock()
	first := len(g.errs) == 0
	g.errs = append(g.errs, err)
	// Under mu, so that the events of a group's failures come in the
	// order Wait reports them.
	g.ev.failed(ctx, path, err)
	g.mu.Unlock()
	if first {
		g.cancel(err)
	}
}

// Wait blocks until every task started by Go or TryGo has returned, then
// cancels the group's context and returns the group's result:
//
//   - the first failure, combined (multierr) with any later failures that
//     did not merely echo the cancellation, each naming its task;
//   - otherwise, if a task was refused or stopped with the context's error
//     because the group's context was done, the context's cause (for
//     example context.Canceled from the parent), since some work did not run;
//   - otherwise nil.
//
// Wait may be called more than once and from several goroutines; every
// call returns the same result. Once Wait has returned, Go and TryGo
// panic. Wait must not be called from a task of the same group: the task
// would wait for itself, forever.
//
// Wait panics if the Group was not made by NewGroup.
func (g *Group) Wait() error {
	if g.ctx == nil {
		panic("shepherd: Group.Wait on a Group not made by NewGroup; create it with shepherd.NewGroup(ctx)")
	}
	g.tasks.wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.finished {
		g.finished = true
		switch {
		case len(g.errs) > 0:
			g.result = multierr.Combine(g.errs...)
		case g.refused.Load():
			g.result = context.Cause(g.ctx)
		}
		g.cancel(g.result)
	}
	return g.result
}
