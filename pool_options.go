package shepherd

import (
	"reflect"
	"strconv"
	"unsafe"
)

// DefaultQueuePerWorker sizes the queue of a Pool made without QueueSize:
// it holds this many items per worker. Sizing by worker keeps the time a
// full queue takes to drain at about this many handler durations, whatever
// the number of workers, so the drain at shutdown stays predictable.
const DefaultQueuePerWorker = 16

// A PoolOption configures a Pool.
type PoolOption func(*poolConfig)

type poolConfig struct {
	queueSize     int
	queueSet      bool
	onUnprocessed any // func(T), checked against the pool's T by NewPool
	itemKey       any // func(T) string, likewise
	stopOnError   bool

	itemWeight   any // func(T) int64, likewise (pool_weight.go)
	maxWeight    int64
	maxWeightSet bool
}

// QueueSize bounds the pool's queue to n items: once n accepted items wait
// for a worker, Submit blocks and TrySubmit returns ErrQueueFull. With 0
// there is no queue: Submit hands each item straight to an idle worker and
// blocks until one takes it. Without QueueSize the queue holds
// DefaultQueuePerWorker items per worker.
//
// Size the queue so that a full one drains well within the shutdown
// budget: every queued item must be handled or handed back at stop. n must
// not be negative. NewPool allocates the queue at once: n items, and 24
// bytes beside each (its position, its weight under ItemWeight, and its
// time stamp under Observe); it panics if that comes to more than 1 GiB.
func QueueSize(n int) PoolOption {
	return func(c *poolConfig) { c.queueSize, c.queueSet = n, true }
}

// OnUnprocessed gives the pool a function to hand back the items it
// accepted but will never handle: those still queued when a stop's deadline
// passes, when Run's context is done, or when a failure stops a pool made
// with StopOnError. The owner can store them, retry them elsewhere, or
// count them; nothing is dropped silently.
//
// fn is called once per item, one call at a time, on a goroutine of the
// pool's, and always before Run returns. Items queued when the stop began
// are handed back, and so are items in flight whose handler returned only
// because the stop cancelled its context (Stats.Interrupted counts those).
// fn must not call the pool's Stop. A panic or runtime.Goexit in fn is
// reported as a failure of the pool (Run returns it), and the remaining
// items are still handed back.
//
// Without OnUnprocessed, Run (or Stop, for a pool that never ran) returns
// an error wrapping ErrUnprocessed that counts such items.
//
// fn must take the pool's item type: NewPool panics otherwise.
func OnUnprocessed[T any](fn func(item T)) PoolOption {
	return func(c *poolConfig) { c.onUnprocessed = fn }
}

// ItemKey names items in failure reports. A failed item is reported under
// the pool's path followed by its key in brackets, as in
// "app/reports[order 42]"; without ItemKey the key is the item's position,
// the number of the Submit or TrySubmit call that queued it counting from
// 0 (calls that queued nothing take a number too).
//
// fn is called only for items that fail, so it may be slow. If it panics
// or calls runtime.Goexit, the position is used, and the failure is
// reported all the same. fn must take the pool's item type: NewPool panics
// otherwise.
func ItemKey[T any](fn func(item T) string) PoolOption {
	return func(c *poolConfig) { c.itemKey = fn }
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

// poolFunc checks that an option's function fits the pool's item type.
func poolFunc[F any](pool, option string, fn any) F {
	f, ok := fn.(F)
	if !ok {
		panic("shepherd: NewPool(" + quote(pool) + "): " + option + " takes a " + reflect.TypeOf(fn).String() +
			" but the pool's items are " + reflect.TypeFor[F]().In(0).String() + "; pass a " + reflect.TypeFor[F]().String())
	}
	if reflect.ValueOf(f).IsNil() {
		panic("shepherd: NewPool(" + quote(pool) + "): " + option + "(nil): pass the function, or leave the option out")
	}
	return f
}

func (c *poolConfig) validate(name string, workers int) {
	switch {
	case workers < 1:
		panic("shepherd: NewPool(" + quote(name) + ", " + strconv.Itoa(workers) + " workers): a pool needs at least one worker")
	case c.queueSize < 0:
		panic("shepherd: NewPool(" + quote(name) + "): QueueSize(" + strconv.Itoa(c.queueSize) +
			") must not be negative; use 0 to hand items straight to the workers")
	}
	if !c.queueSet {
		c.queueSize = DefaultQueuePerWorker * workers
	}
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
