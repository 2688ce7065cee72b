package shepherd

import (
	"strconv"
	"sync"
	"sync/atomic"
)

// poolSize is the number of a pool's workers, which Resize changes.
//
// A surplus worker is told to exit by a stop signal sent through the queue
// (an entry with seq -1), behind the items already queued: a worker waits
// for items in a plain receive on the queue, and a receive is the only
// thing that can wake it without making every item pay for a select. The
// worker that takes the signal has finished its last item and exits;
// nothing is interrupted and nothing is left in the queue. A signal takes
// a position like a Submit call, so the queue is not closed while one is
// on its way, and is counted as rejected so that Stats does not count it
// as submitted.
type poolSize struct {
	mu      sync.Mutex
	target  int  // the size asked for; 0 until first read, then the size given to NewPool
	started bool // Run has started the workers
	used    int  // entries of Pool.stats handed to workers
	extra   []*workerStats
	free    []*workerStats // counters of retired workers, for new ones
	pills   atomic.Int64   // stop signals in the queue
}

// Resize sets the number of the pool's workers to n while it runs, as after
// a change of load or configuration. Growing starts the new workers at
// once. Shrinking lets the surplus workers finish the item they are
// handling and the items queued before the call, then exit: no handler is
// interrupted and no item is lost. Resize does not wait for them.
//
// Before Run, Resize sets the number of workers Run starts. Once the pool
// stops accepting items, shrinking no longer stops workers (they all exit
// as the queue empties) and growing still helps the drain; after Run
// returned, Resize does nothing but record n. The stop, drain and
// hand-back rules are those of a pool of fixed size. Stats reports the
// size last asked for in Workers.
//
// Each worker a shrink stops takes a position as a Submit call does, so
// items without an ItemKey skip a number in failure reports. Resize panics
// if n is less than 1.
func (p *Pool[T]) Resize(n int) {
	p.check("Resize")
	if n < 1 {
		panic("shepherd: pool " + quote(p.name) + ": Resize(" + strconv.Itoa(n) + "): a pool needs at least one worker")
	}
	rs := &p.size
	rs.mu.Lock()
	defer rs.mu.Unlock()
	cur := p.sizeLocked()
	rs.target = n
	switch {
	case !rs.started:
	case n > cur:
		p.growLocked(n - cur)
	case n < cur:
		p.shrink(cur - n)
	}
}

// sizeLocked returns the size asked for; rs.mu is held.
func (p *Pool[T]) sizeLocked() int {
	if p.size.target == 0 {
		p.size.target = p.workers
	}
	return p.size.target
}

// startWorkers starts Run's workers, as many as asked for so far.
func (p *Pool[T]) startWorkers() {
	rs := &p.size
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.started = true
	n := p.sizeLocked()
	p.live.Store(int32(n))
	for range n {
		go p.work(p.counters())
	}
}

// growLocked starts k more workers, unless the last worker has already
// exited: the pool has finished, and one more worker would close finished
// a second time.
func (p *Pool[T]) growLocked(k int) {
	for {
		n := p.live.Load()
		if n == 0 {
			return
		}
		if p.live.CompareAndSwap(n, n+int32(k)) {
			break
		}
	}
	for range k {
		go p.work(p.counters())
	}
}

// counters returns the counters for a new worker: the next of those made
// with the pool, those of a retired worker, or new ones. Only one worker
// at a time counts on each, as Stats requires. rs.mu is held.
func (p *Pool[T]) counters() *workerStats {
	rs := &p.size
	switch {
	case rs.used < len(p.stats):
		rs.used++
		return &p.stats[rs.used-1]
	case len(rs.free) > 0:
		w := rs.free[len(rs.free)-1]
		rs.free = rs.free[:len(rs.free)-1]
		return w
	}
	w := new(workerStats)
	rs.extra = append(rs.extra, w)
	return w
}

// shrink sends k stop signals through the queue. A signal that does not
// fit now is carried by a goroutine of its own, which the queue's closing
// waits for: Resize does not block on a full queue. That goroutine is the
// pool's, and carries the pool's labels rather than those of the caller
// of Resize (a request handler, say), which it may outlive: the debug
// page, the sampler and the look for leftovers at a stop then count it
// where it belongs.
func (p *Pool[T]) shrink(k int) {
	for range k {
		n := p.seq.Add(1)
		p.rejected.Add(1)
		if n&closedBit != 0 {
			return // draining: every worker exits once the queue is empty
		}
		// pills counts the signals in the queue, which Stats leaves out
		// of Queued: counted before the send, so that a worker taking the
		// signal at once never finds the count below zero; a signal that
		// does not fit is counted only once its goroutine has sent it, or
		// Stats would count it in the queue, one queued item short (and
		// one in flight too many), for as long as it waits.
		p.size.pills.Add(1)
		pill := entry[T]{seq: -1}
		select {
		case p.queue <- pill:
			p.leave()
		default:
			p.size.pills.Add(-1)
			go func() {
				setLabels(p.hctx) // set by Run before the workers started
				p.queue <- pill
				p.size.pills.Add(1)
				p.leave()
			}()
		}
	}
}

// retire is called by a worker that took a stop signal, before it exits.
func (p *Pool[T]) retire(w *workerStats) {
	p.size.pills.Add(-1)
	p.size.mu.Lock()
	p.size.free = append(p.size.free, w)
	p.size.mu.Unlock()
}

// sizeStats adds to s what Stats reports of the pool's size and weight:
// the workers asked for, the counters of workers started by Resize, and
// the weight held. It is called after Stats read the first workers'
// counters, and before it reads the queue.
func (p *Pool[T]) sizeStats(s *PoolStats) {
	rs := &p.size
	rs.mu.Lock()
	s.Workers = p.sizeLocked()
	for _, w := range rs.extra {
		s.Done += w.done.Load()
		s.Failed += w.failed.Load()
		s.Panicked += w.panicked.Load()
	}
	rs.mu.Unlock()
	s.Weight = p.weightHeld()
}

// queued counts the items in the queue, leaving out stop signals.
func (p *Pool[T]) queued() int64 {
	return max(int64(len(p.queue))-p.size.pills.Load(), 0)
}

// capacityFacts are what the debug page shows of a pool's size and, when
// it is weighted, of the weight it holds.
func capacityFacts(st *PoolStats) []debugFact {
	fs := []debugFact{{"workers", strconv.Itoa(st.Workers)}}
	if st.Weight != 0 {
		fs = append(fs, debugFact{"weight", strconv.FormatInt(st.Weight, 10)})
	}
	return fs
}
