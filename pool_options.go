package shepherd

import (
	"strconv"
	"unsafe"
)

// defaultQueuePerWorker sizes the queue of a Pool made without QueueSize:
// it holds this many items per worker. Sizing by worker keeps the time a
// full queue takes to drain at about this many handler durations, whatever
// the number of workers, so the drain at shutdown stays predictable.
const defaultQueuePerWorker = 16

// A PoolOption configures a Pool when NewPool makes it: QueueSize or
// StopOnError. The settings that take a function of the pool's item type
// (OnUnprocessed, ItemKey, MaxWeight) are methods of *Pool[T] instead, so
// that the compiler checks the function's type (see NewPool).
type PoolOption func(*poolConfig)

type poolConfig struct {
	queueSize   int
	queueSet    bool
	stopOnError bool
}

// QueueSize bounds the pool's queue to n items: once n accepted items wait
// for a worker, Submit blocks and TrySubmit returns ErrQueueFull. With 0
// there is no queue: Submit hands each item straight to an idle worker and
// blocks until one takes it. Without QueueSize the queue holds 16 items
// per worker, so that a full queue drains in about 16 handler durations
// whatever the number of workers.
//
// Size the queue so that a full one drains well within the shutdown
// budget: every queued item must be handled or handed back at stop. n must
// not be negative. NewPool allocates the queue at once: n items, and 24
// bytes beside each (its position, its weight under MaxWeight, and its
// time stamp under Observe); it panics if that comes to more than 1 GiB.
func QueueSize(n int) PoolOption {
	return func(c *poolConfig) { c.queueSize, c.queueSet = n, true }
}

// StopOnError makes the first handler failure (an error or a panic) stop
// the pool, as a failing task stops a Group: the pool stops accepting
// items, cancels the context of the handlers still running with the
// failure as its cause, hands the queued items back (see OnUnprocessed),
// and Run returns the failure once the handlers have returned.
//
// Without StopOnError, a handler failure is that item's failure alone: it
// is counted and reported, and the workers carry on.
func StopOnError() PoolOption {
	return func(c *poolConfig) { c.stopOnError = true }
}

// poolSettings applies opts and checks them, for NewPool(name, workers).
func poolSettings(name string, workers int, opts []PoolOption) poolConfig {
	var c poolConfig
	for _, o := range opts {
		if o == nil {
			panic("shepherd: NewPool(" + quote(name) + "): a nil PoolOption; pass QueueSize or StopOnError, or leave it out")
		}
		o(&c)
	}
	switch {
	case c.queueSize < 0:
		panic("shepherd: NewPool(" + quote(name) + "): QueueSize(" + strconv.Itoa(c.queueSize) +
			") must not be negative; use 0 to hand items straight to the workers")
	case !c.queueSet:
		c.queueSize = defaultQueuePerWorker * workers
	}
	return c
}

// maxQueueBytes bounds the memory of a pool's queue, which NewPool
// allocates at once: a queue that size takes minutes to drain at any
// realistic rate, so a larger one is a mistake, such as a byte count
// passed to QueueSize.
const maxQueueBytes = 1 << 30

// checkQueueSize panics when a queue of n entries would take more than
// maxQueueBytes, rather than let make fail with a runtime error or the
// process run out of memory.
func checkQueueSize[T any](name string, n int) {
	size := uint64(unsafe.Sizeof(entry[T]{}))
	if uint64(n) <= maxQueueBytes/max(size, 1) {
		return
	}
	panic("shepherd: NewPool(" + quote(name) + "): QueueSize(" + strconv.Itoa(n) + ") would allocate " +
		strconv.FormatUint(size, 10) + " bytes per item at once, more than 1 GiB; " +
		"size the queue so that a full one drains within the shutdown budget")
}
