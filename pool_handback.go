package shepherd

import (
	"fmt"

	"go.uber.org/multierr"
)

// handBack gives up the items next yields (until it reports false): each
// is counted in Stats.HandedBack and passed to OnUnprocessed, one call at a
// time, in the order next yields them. It returns once next is exhausted
// and the last call has returned.
//
// OnUnprocessed is user code, called on the way out of a stop that must
// still finish: it runs on a goroutine of its own, so that a panic or a
// runtime.Goexit in it cannot take the stopping goroutine with it (a
// worker, the caller of Stop, Run) nor leave handMu held, which Run waits
// for. Either one is reported as a failure of the pool, and a new
// goroutine carries on with the next item, so the rest are still handed
// back.
func (p *Pool[T]) handBack(next func() (entry[T], bool)) {
	p.handMu.Lock()
	defer p.handMu.Unlock()
	next = p.itemsOnly(next)
	if p.onUnprocessed == nil {
		for {
			if _, ok := next(); !ok {
				return
			}
			p.handedBack.Add(1)
		}
	}
	p.mu.Lock()
	path, ev, hctx := p.path, p.ev, p.hctx
	p.mu.Unlock()
	done := make(chan struct{})
	var giver func()
	giver = func() {
		if hctx != nil {
			setLabels(hctx) // a stuck OnUnprocessed shows under the pool's path
		}
		returned := false
		defer func() {
			if returned {
				close(done)
				return
			}
			err := exitError(path, recover())
			ev.failed(hctx, path, err)
			p.mu.Lock()
			p.errs = multierr.Append(p.errs, err)
			p.mu.Unlock()
			go giver()
		}()
		for {
			e, ok := next()
			if !ok {
				break
			}
			p.handedBack.Add(1)
			p.onUnprocessed(e.item)
		}
		returned = true
	}
	go giver()
	<-done
}

// itemsOnly wraps next so that it yields accepted items only: a Resize's
// stop signal in the queue is no item (pool_resize.go), and an item's
// weight is released as it leaves the pool (pool_weight.go).
func (p *Pool[T]) itemsOnly(next func() (entry[T], bool)) func() (entry[T], bool) {
	return func() (entry[T], bool) {
		for {
			e, ok := next()
			if ok && e.seq < 0 {
				p.size.pills.Add(-1)
				continue
			}
			if ok && e.w != 0 {
				p.weights.release(e.w)
			}
			return e, ok
		}
	}
}

// handBackOne hands back a single item, taken by a worker after the stop
// or interrupted by it.
func (p *Pool[T]) handBackOne(e entry[T]) {
	given := false
	p.handBack(func() (entry[T], bool) {
		if given {
			return e, false
		}
		given = true
		return e, true
	})
}

// unprocessed returns the error for items given up without OnUnprocessed.
func (p *Pool[T]) unprocessed() error {
	n := p.handedBack.Load()
	if p.onUnprocessed != nil || n == 0 {
		return nil
	}
	return &TaskError{Path: p.pathNow(), Err: fmt.Errorf("%w: %d accepted %s dropped at stop; pass OnUnprocessed to get such items back",
		ErrUnprocessed, n, plural(int(n), "item", "items"))}
}
