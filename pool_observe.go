package shepherd

import "time"

// poolObserver boxes the function Observe attached, so that the pool can
// load it with one atomic read.
type poolObserver struct {
	o func(path string, queued, handled time.Duration)
}

// Observe attaches fn to the pool, such as a metrics collector that keeps
// histograms of how long items wait and are handled: from then on every
// item accepted is timed from Submit to a worker taking it, and from there
// to its handler returning, and fn is told both, with the pool's path.
// Without an observer the pool takes no time stamps, and each Submit and
// each item pay one nil check for it, and a queued item carries eight more
// bytes for the time stamp. Observe with nil detaches the observer. It may
// be called at any time; an item accepted before it is not timed, nor
// passed to fn.
//
// fn is called on the worker goroutine, after the handler returned and
// before the next item is taken, so it must be quick. A panic in it is
// contained like a panic in the handler: it is counted and reported as
// that item's panic. An item whose handler panicked or called
// runtime.Goexit is not timed: keeping a deferred call on every item for
// it would cost the pool more than the figure is worth.
func (p *Pool[T]) Observe(fn func(path string, queued, handled time.Duration)) {
	p.check("Observe")
	if fn == nil {
		p.obs.Store(nil)
		return
	}
	p.obs.Store(&poolObserver{fn})
}

// monoEpoch is the origin of monoNow: nanoseconds on the monotonic clock,
// stored in a queue entry in eight bytes instead of a time.Time's 24.
var monoEpoch = time.Now()

func monoNow() int64 { return int64(time.Since(monoEpoch)) }

// observe handles an item under an observer: it times the wait and the
// handler and reports both. It is apart from the worker's loop so that the
// loop's hot path stays the same without one.
func (p *Pool[T]) observe(o func(path string, queued, handled time.Duration), e entry[T]) error {
	took := monoNow()
	err := p.handle(p.hctx, e.item)
	done := monoNow()
	queued := time.Duration(0)
	if e.at != 0 {
		queued = time.Duration(took - e.at)
	}
	o(p.path, queued, time.Duration(done-took))
	return err
}
