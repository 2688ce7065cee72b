package shepherd

import "sync/atomic"

// PoolStats counts what a Pool did with the items it was given. Every item
// Submit or TrySubmit accepted is, at any moment, in exactly one of Queued,
// InFlight, Done, Failed, Panicked and HandedBack, so once Run has
// returned:
//
//	Submitted == Done + Failed + Panicked + HandedBack
//
// While the pool runs the counters are read one after the other, not as
// one atomic snapshot, so an item moving at that instant may be counted
// in its old place or its new one.
type PoolStats struct {
	// Submitted counts the items accepted by Submit and TrySubmit.
	Submitted int64 `json:"submitted"`
	// Queued counts accepted items not yet taken by a worker.
	Queued int64 `json:"queued"`
	// InFlight counts the items whose handler is running.
	InFlight int64 `json:"in_flight"`
	// Done counts the items whose handler returned nil.
	Done int64 `json:"done"`
	// Failed counts the items whose handler returned an error or called
	// runtime.Goexit. An error that only echoes the cancellation of a
	// stop is not a failure: see Interrupted.
	Failed int64 `json:"failed"`
	// Panicked counts the items whose handler panicked.
	Panicked int64 `json:"panicked"`
	// HandedBack counts the accepted items the pool gave up on at stop:
	// passed to OnUnprocessed or, without it, counted in the error that
	// Run returns.
	HandedBack int64 `json:"handed_back"`
	// Interrupted counts the items among HandedBack that were in flight:
	// the stop cancelled the handler's context, and the handler returned
	// an error that only echoes that cancellation, so the item was not
	// handled.
	Interrupted int64 `json:"interrupted"`

	// Workers is the number of workers: as made, or as last set by Resize
	// (pool_resize.go).
	Workers int `json:"workers"`
	// Weight is the total weight of the items queued or being handled, in
	// a pool given MaxWeight; 0 otherwise (pool_weight.go).
	Weight int64 `json:"weight"`
}

// workerStats are the counters of one worker. Only that worker writes
// them, and only one per item, so counting costs an uncontended atomic add;
// the padding keeps workers off each other's cache lines.
type workerStats struct {
	done     atomic.Int64
	failed   atomic.Int64
	panicked atomic.Int64
	_        [128 - 3*8]byte
}

// Stats returns the pool's counters. It is safe to call at any time from
// any goroutine, and cheap: a few atomic loads per worker.
func (p *Pool[T]) Stats() PoolStats {
	p.check("Stats")
	var s PoolStats
	// Read in the opposite order of an item's life, so that an item
	// moving while we read is counted in its old place or its new one,
	// and no counter goes negative. Workers count an item only once it
	// is finished: an item taken from the queue and not finished yet is
	// in flight.
	s.Interrupted = p.interrupted.Load()
	s.HandedBack = p.handedBack.Load()
	for i := range p.stats {
		w := &p.stats[i]
		s.Done += w.done.Load()
		s.Failed += w.failed.Load()
		s.Panicked += w.panicked.Load()
	}
	p.sizeStats(&s)
	s.Queued = p.queued()
	// A position is taken before the item is offered to the queue; the
	// calls still waiting for room and those that gave up hold one too.
	rejected := p.rejected.Load()
	waiting := p.waiting.Load()
	s.Submitted = p.seq.Load()&^closedBit - rejected - waiting
	s.InFlight = max(s.Submitted-s.Queued-s.Done-s.Failed-s.Panicked-s.HandedBack, 0)
	return s
}
