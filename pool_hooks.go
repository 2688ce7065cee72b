package shepherd

// This file holds the pool's settings that take a function of its item
// type. They are methods of *Pool[T], where T is known, rather than
// options given to NewPool: an option taking a func(T) cannot be checked
// against the pool's T by the compiler (Go infers an option's type
// parameter from the option alone, so a function of another item type
// would only panic at run time). The settings that do not mention T
// (QueueSize, StopOnError) are PoolOptions (pool_options.go).

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
// It returns p, so that it can follow NewPool. Call it before the pool is
// shared with other goroutines and before Run; it panics if fn is nil or
// Run was called.
func (p *Pool[T]) OnUnprocessed(fn func(item T)) *Pool[T] {
	p.configure("OnUnprocessed", fn == nil)
	p.onUnprocessed = fn
	return p
}

// ItemKey names items in failure reports. A failed item is reported under
// the pool's path followed by its key in brackets, as in
// "app/reports[order 42]"; without ItemKey the key is the item's position,
// the number of the Submit or TrySubmit call that queued it counting from
// 0 (calls that queued nothing take a number too).
//
// fn is called only for items that fail, so it may be slow. If it panics
// or calls runtime.Goexit, the position is used, and the failure is
// reported all the same. It returns p, so that it can follow NewPool. Call
// it before the pool is shared with other goroutines and before Run; it
// panics if fn is nil or Run was called.
func (p *Pool[T]) ItemKey(fn func(item T) string) *Pool[T] {
	p.configure("ItemKey", fn == nil)
	p.key = fn
	return p
}

// configure panics when a hook is set on a pool that is not new: the
// workers and Submit read the hooks without a lock, which is safe only
// while nothing else uses the pool.
func (p *Pool[T]) configure(method string, nilFn bool) {
	p.check(method)
	if nilFn {
		panic("shepherd: pool " + quote(p.name) + ": " + method + "(nil): pass the function, or leave the call out")
	}
	p.mu.Lock()
	ran := p.ran
	p.mu.Unlock()
	if ran || p.seq.Load() != 0 {
		panic("shepherd: pool " + quote(p.name) + ": " + method + " after Submit or Run: call it on the pool NewPool returns, before the pool is used")
	}
}
