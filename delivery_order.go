package shepherd

import (
	"sync"
	"sync/atomic"
)

// This file keeps the events of one tree in one order across its
// deliverers. A nested supervisor that sets a sink of its own delivers
// through its own goroutine, but what it reports follows from what its
// parent reported (the parent's "starting" comes before anything the
// nested supervisor says; a nested failure comes before the parent's
// restart of it), and a sink set at several levels, or a Logger writing
// to one handler, sees both streams. Each post therefore takes a ticket
// from the tree's sequence, and a deliverer calls its sinks for a ticket
// only after every earlier ticket of the tree was delivered: the tree's
// sinks see its events in the order they were posted, as they would with
// one deliverer.

// A sequence orders the deliveries of one tree's deliverers.
type sequence struct {
	mu     sync.Mutex
	turn   sync.Cond
	posted uint64 // tickets handed out; see deliverer.post
	done   uint64 // tickets delivered: ticket done is the next to go
	holder uint64 // the goroutine delivering ticket done, 0 when none
}

func newSequence() *sequence {
	q := &sequence{}
	q.turn.L = &q.mu
	return q
}

// await blocks until ticket is the next to be delivered, then marks gid,
// the calling deliverer, as delivering it. waiting is set while it waits
// for an earlier ticket.
func (q *sequence) await(ticket, gid uint64, waiting *atomic.Bool) {
	q.mu.Lock()
	if q.done != ticket {
		waiting.Store(true)
		for q.done != ticket {
			q.turn.Wait()
		}
		waiting.Store(false)
	}
	q.holder = gid
	q.mu.Unlock()
}

// finish marks the ticket being delivered as delivered and wakes the
// deliverers waiting for their turn.
func (q *sequence) finish() {
	q.mu.Lock()
	q.done++
	q.holder = 0
	q.turn.Broadcast()
	q.mu.Unlock()
}

// heldBy reports whether the goroutine gid is delivering an event of the
// tree, so that the deliverers waiting behind it wait for that goroutine.
func (q *sequence) heldBy(gid uint64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return gid != 0 && q.holder == gid
}
