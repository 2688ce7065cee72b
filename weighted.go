package shepherd

import (
	"context"
	"errors"
	"strconv"

	"golang.org/x/sync/semaphore"
)

// ErrTooHeavy is the failure of a task or item that weighs more than the
// whole capacity it asks for (a Group's Budget, a Pool's MaxWeight): it
// could never start, so it fails at once rather than wait forever. The
// error returned names the task or pool, the weight and the capacity;
// errors.Is(err, ErrTooHeavy) matches it.
var ErrTooHeavy = errors.New("shepherd: weight exceeds the whole capacity")

// Budget gives the group a weighted capacity of n: the tasks started with
// GoWeighted or TryGoWeighted hold their weight while they run, and the
// weights of the tasks running at once never add up to more than n. Use it
// when tasks differ in cost, to bound the bytes, connections or CPU shares
// in flight rather than the number of tasks: a batch of uploads of 1 KB
// to 2 GB bounded by Budget(256<<20) runs many small ones at once and the
// large ones a few at a time.
//
// Go and TryGo take none of the budget. With Limit as well, a weighted
// task needs both its weight and a slot. n must be at least 1.
func Budget(n int64) GroupOption {
	return func(c *groupConfig) { c.budget, c.budgetSet = n, true }
}

// groupBudget is the weighted capacity of a group made with Budget.
type groupBudget struct {
	sem  *semaphore.Weighted
	size int64
}

// newGroupBudget checks a Budget option; nil without one.
func newGroupBudget(cfg *groupConfig, path string) *groupBudget {
	if !cfg.budgetSet {
		return nil
	}
	if cfg.budget < 1 {
		panic("shepherd: NewGroup: Budget(" + strconv.FormatInt(cfg.budget, 10) + ") for " + groupName(path) +
			": a budget must be at least 1; omit Budget to leave the weights unbounded")
	}
	return &groupBudget{sem: semaphore.NewWeighted(cfg.budget), size: cfg.budget}
}

// GoWeighted starts fn like Go, as a task that holds w of the group's
// Budget while it runs. It blocks until w is free, the tasks that asked
// before it having been served first (a heavy task is not overtaken by a
// stream of light ones), or until the group's context is done: then it
// starts nothing, and Wait reports the cause. With a Limit, it then waits
// for a slot too, holding its weight meanwhile.
//
// A task heavier than the whole Budget could never start: GoWeighted does
// not block then, but records the task's failure, an error wrapping
// ErrTooHeavy, which cancels the group like any failure and is returned by
// Wait. A weight of 0 takes no budget but still waits its turn.
//
// GoWeighted panics if the group has no Budget, w is negative, or for the
// reasons Go does.
func (g *Group) GoWeighted(name string, w int64, fn func(ctx context.Context) error) {
	t := g.prepare("GoWeighted", name, fn)
	if !g.weighable("GoWeighted", t, w) {
		return
	}
	if err := g.weights.sem.Acquire(g.ctx, w); err != nil {
		g.refuse()
		return
	}
	g.launchWeighted(t, fn, w, true)
}

// TryGoWeighted starts fn like GoWeighted if w of the Budget (and, with a
// Limit, a slot) is free now and no earlier GoWeighted is waiting, and
// reports whether it did. It returns false without blocking otherwise, or
// once the group's context is done. A task heavier than the whole Budget
// fails the group as with GoWeighted, and TryGoWeighted returns false.
func (g *Group) TryGoWeighted(name string, w int64, fn func(ctx context.Context) error) bool {
	t := g.prepare("TryGoWeighted", name, fn)
	if !g.weighable("TryGoWeighted", t, w) || !g.weights.sem.TryAcquire(w) {
		return false
	}
	return g.launchWeighted(t, fn, w, false)
}

// weighable checks a weighted start. A weight over the whole budget is
// data, not a bug in the caller (an upload's size), so it is the task's
// failure rather than a panic; a negative weight is a bug.
func (g *Group) weighable(method string, t *taskLabels, w int64) bool {
	switch {
	case g.weights == nil:
		panic("shepherd: Group." + method + "(" + quote(t.name) + ") in " + groupName(g.path) +
			" without a Budget; create the group with shepherd.Budget(n), or use Go")
	case w < 0:
		panic("shepherd: Group." + method + "(" + quote(t.name) + ", " + strconv.FormatInt(w, 10) + ") in " + groupName(g.path) +
			": a weight must not be negative")
	case w > g.weights.size:
		g.fail(t.ctx, t.path, &scopedError{"shepherd: weight " + strconv.FormatInt(w, 10) + " is more than the group's whole Budget(" +
			strconv.FormatInt(g.weights.size, 10) + "), so the task could never start; raise the Budget or split the task", ErrTooHeavy})
		return false
	}
	return true
}

// launchWeighted starts a task that holds w of the budget once it has a
// slot of the Limit and of the supervisors' MaxTasks, if any; wait says
// whether to wait for them. It gives w back and reports false when it
// starts nothing. It follows Go and TryGo step for step, so that a
// weighted task obeys the same rules.
func (g *Group) launchWeighted(t *taskLabels, fn func(context.Context) error, w int64, wait bool) bool {
	var done <-chan struct{}
	if wait {
		done = g.ctx.Done()
	}
	if g.sem != nil && !g.takeSlot(wait) {
		g.weights.sem.Release(w)
		if wait {
			g.refuse()
		}
		return false
	}
	if g.cap != nil && !g.cap.acquire(done) {
		g.release(false)
		g.weights.sem.Release(w)
		if wait {
			g.refuse()
		}
		return false
	}
	// Counted before the context is checked, as start does for Go: a
	// GoWeighted racing a Wait from outside is either waited for or
	// refused with a panic.
	if !g.tasks.add() {
		g.release(true)
		g.weights.sem.Release(w)
		method := "TryGoWeighted"
		if wait {
			method = "GoWeighted"
		}
		g.lateGo(method, t.name)
	}
	if g.ctx.Err() != nil {
		g.release(true)
		g.weights.sem.Release(w)
		g.refuse()
		g.tasks.done()
		return false
	}
	go t.run(fn, w)
	return true
}

// takeSlot takes a slot of the group's Limit. With wait it blocks until
// the group's context is done; it reports whether it got one.
func (g *Group) takeSlot(wait bool) bool {
	if !wait {
		select {
		case g.sem <- struct{}{}:
			return true
		default:
			return false
		}
	}
	select {
	case g.sem <- struct{}{}:
		return true
	case <-g.ctx.Done():
		return false
	}
}
