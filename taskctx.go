package shepherd

import (
	"context"
	"sync/atomic"
	"time"
)

// taskCtx is the context the tasks of a Group run with. Its values (the
// task's scope and pprof labels) sit in a chain of contexts over the
// group's context, but Done, Err and Deadline go straight to the group's
// context, whose state they share.
//
// It exists for speed. Once a group is cancelled, all its tasks wake at
// once and typically return ctx.Err(): on the group's own context each
// such call takes the lock of its Done channel, and on the chain each goes
// through every link. taskCtx answers from one field, and remembers the
// error, so that telling that a task's error merely echoes the
// cancellation is a comparison.
//
// The context package still sees the group's context inside: Value finds
// it, and a context derived from a taskCtx is cancelled with the group
// without a goroutine of its own.
type taskCtx struct {
	context.Context // scope and labels, over the group's context

	group context.Context
	done  <-chan struct{}
	err   atomic.Pointer[error] // the group's ctx.Err(), once it is done
}

func newTaskCtx(group, values context.Context) *taskCtx {
	return &taskCtx{Context: values, group: group, done: group.Done()}
}

func (c *taskCtx) Deadline() (time.Time, bool) { return c.group.Deadline() }

func (c *taskCtx) Done() <-chan struct{} { return c.done }

func (c *taskCtx) Err() error {
	if err := c.err.Load(); err != nil {
		return *err
	}
	// The group's Err is an atomic load while the group runs. Once it is
	// done, Err also receives from the closed Done channel, under the
	// channel's lock: the answer is kept, so that of all the tasks that
	// wake at once only the first pays for that.
	err := c.group.Err()
	if err != nil {
		c.err.Store(&err)
	}
	return err
}

// echoed reports whether err is the error Err returned once the context
// was done, which is how most tasks say they stopped because they were
// told to. It is a cheap first test; echoes is the whole rule.
func (c *taskCtx) echoed(err error) bool {
	e := c.err.Load()
	return e != nil && err == *e
}
