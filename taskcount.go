package shepherd

import (
	"sync"
	"sync/atomic"
)

// This file owns taskCount, the count of a Group's running tasks that
// Wait closes.

// taskCount counts the running tasks of a Group, like a sync.WaitGroup,
// and is closed by the Wait that sees it reach zero, after which nothing
// can be added. The closing and the adding are one atomic word, so a Go
// racing a Wait from outside the group either is counted before Wait
// returns, and Wait waits for its task, or is refused and panics: a task
// never starts after Wait returned. A WaitGroup cannot say which of the two
// happened, and the race detector rightly flags an Add that races its Wait.
type taskCount struct {
	state atomic.Uint64 // running tasks, waiters and the closed bit

	mu   sync.Mutex
	zero chan struct{} // closed when the count reaches zero with waiters; nil when none wait
}

const (
	tcCount   = 1<<32 - 1         // running tasks, in the low 32 bits
	tcWaiter  = 1 << 32           // one goroutine blocked in wait, counted in the next 31 bits
	tcWaiters = (1<<31 - 1) << 32 // all of them
	tcClosed  = 1 << 63           // set by the wait that saw zero; nothing is added after
)

// add counts one more task, unless the count is closed; it reports
// whether it did.
func (c *taskCount) add() bool {
	if c.state.Add(1)&tcClosed != 0 {
		// Closed before this add: undo it. Nobody waits on a closed
		// count, so nobody needs waking.
		c.state.Add(^uint64(0))
		return false
	}
	return true
}

// done counts a task out, and wakes the waiters if it was the last.
func (c *taskCount) done() {
	s := c.state.Add(^uint64(0))
	if s&tcCount == 0 && s&tcWaiters != 0 {
		c.mu.Lock()
		if c.zero != nil {
			close(c.zero)
			c.zero = nil
		}
		c.mu.Unlock()
	}
}

func (c *taskCount) closed() bool { return c.state.Load()&tcClosed != 0 }

// wait blocks until the count is zero, then closes it.
func (c *taskCount) wait() {
	for {
		s := c.state.Load()
		switch {
		case s&tcClosed != 0:
			return
		case s&tcCount == 0:
			if c.state.CompareAndSwap(s, s|tcClosed) {
				return
			}
			continue // a task was added, or a waiter came or went
		}
		// Register as a waiter with the channel in hand, under mu, so that
		// the done that reaches zero, which takes mu to close the channel,
		// closes this one.
		c.mu.Lock()
		if c.zero == nil {
			c.zero = make(chan struct{})
		}
		zero := c.zero
		s = c.state.Add(tcWaiter)
		c.mu.Unlock()
		if s&tcCount != 0 {
			<-zero
		}
		c.state.Add(^uint64(tcWaiter - 1))
	}
}
