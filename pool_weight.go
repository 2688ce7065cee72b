package shepherd

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// MaxWeight gives each item of the pool a weight, weigh(item), such as its
// size in bytes, and bounds the total weight of the items in the pool to
// n: those queued and those being handled. Submit blocks while an item's
// weight would take the pool over n, in order of arrival (a heavy item is
// not overtaken by a stream of light ones), until ctx is done or the pool
// stops accepting; TrySubmit returns ErrQueueFull instead. An item gives
// its weight back when its handler returns or when it is handed back.
// QueueSize still bounds the number of queued items.
//
// weigh is called once per Submit or TrySubmit, in the caller's
// goroutine, before the item is queued. Submit returns an error, and does
// not take the item, when weigh panics, returns a negative weight, or
// returns more than n (that error wraps ErrTooHeavy: such an item could
// never fit). A weight of 0 holds nothing.
//
// It returns p, so that it can follow NewPool. Call it before the pool is
// shared with other goroutines and before Run; it panics if weigh is nil,
// n is not from 1 to 1<<62, or the pool was used.
func (p *Pool[T]) MaxWeight(n int64, weigh func(item T) int64) *Pool[T] {
	p.configure("MaxWeight", weigh == nil)
	if n < 1 || n > maxMaxWeight {
		panic("shepherd: pool " + quote(p.name) + ": MaxWeight(" + strconv.FormatInt(n, 10) + ") must be from 1 to 1<<62")
	}
	ws := &poolWeights[T]{
		of:   weigh,
		max:  n,
		sem:  semaphore.NewWeighted(2 * n),
		name: p.name,
		errFull: &scopedError{"shepherd: pool " + quote(p.name) + ": weight full (MaxWeight " + strconv.FormatInt(n, 10) +
			"); shed the item, or use Submit to wait for room", ErrQueueFull},
	}
	ws.sem.TryAcquire(n) // the reserve
	p.weights = ws
	return p
}

// poolWeights is the weighted capacity of a pool given MaxWeight.
type poolWeights[T any] struct {
	of   func(T) int64
	max  int64
	sem  *semaphore.Weighted
	held atomic.Int64 // weight of the accepted items not yet handled or handed back

	// The semaphore holds twice max, and a reserve of max of it is taken
	// until the pool stops accepting. Giving the reserve back then grants
	// the Submit calls waiting for weight, in turn, and each of them,
	// seeing closed, gives its weight back and returns ErrClosed. So a
	// waiting Submit needs no context of its own to learn of the close:
	// it waits on the caller's, as a hand-built one does.
	closed atomic.Bool

	name    string
	errFull error
}

// weigh returns the weight of item, or the error Submit returns for it: a
// panic in MaxWeight's weigh function is the submitter's error, not a crash.
func (ws *poolWeights[T]) weigh(item T) (w int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			w, err = 0, newPanicError(ws.name+" (MaxWeight's weigh)", r)
		}
	}()
	w = ws.of(item)
	switch {
	case w < 0:
		return 0, errors.New("shepherd: pool " + quote(ws.name) + ": MaxWeight's weigh returned " + strconv.FormatInt(w, 10) +
			"; a weight must not be negative")
	case w > ws.max:
		return 0, &scopedError{"shepherd: pool " + quote(ws.name) + ": an item of weight " + strconv.FormatInt(w, 10) +
			" is more than the pool's whole MaxWeight(" + strconv.FormatInt(ws.max, 10) + ") and could never fit; raise MaxWeight or split the item", ErrTooHeavy}
	}
	return w, nil
}

// maxMaxWeight keeps twice MaxWeight, reserve included, an int64.
const maxMaxWeight = 1 << 62

// acquire takes w of the pool's weight, waiting until ctx is done or the
// pool stops accepting; errClosed is the error for the latter.
func (ws *poolWeights[T]) acquire(ctx context.Context, w int64, errClosed error) error {
	if ws.closed.Load() {
		return errClosed
	}
	if err := ws.sem.Acquire(ctx, w); err != nil {
		return err
	}
	if ws.closed.Load() {
		ws.sem.Release(w)
		return errClosed
	}
	ws.held.Add(w)
	return nil
}

// stop is called once, when the pool stops accepting: it gives the reserve
// back, which ends the wait of every Submit waiting for weight.
func (ws *poolWeights[T]) stop() {
	ws.closed.Store(true)
	ws.sem.Release(ws.max)
}

// release gives back the weight of an item handled or handed back.
func (ws *poolWeights[T]) release(w int64) {
	ws.held.Add(-w)
	ws.sem.Release(w)
}

// take weighs item and takes its weight for Submit, waiting as acquire
// does; it returns Submit's error if the item cannot be taken.
func (ws *poolWeights[T]) take(ctx context.Context, item T, errClosed error) (int64, error) {
	w, err := ws.weigh(item)
	if err != nil {
		return 0, err
	}
	return w, ws.acquire(ctx, w, errClosed)
}

// tryTake is take for TrySubmit: it does not wait.
func (ws *poolWeights[T]) tryTake(item T, errClosed error) (int64, error) {
	w, err := ws.weigh(item)
	switch {
	case err != nil:
		return 0, err
	case ws.closed.Load():
		return 0, errClosed
	case !ws.sem.TryAcquire(w):
		return 0, ws.errFull
	}
	ws.held.Add(w)
	return w, nil
}

// giveBack returns the weight of an item Submit or TrySubmit took but did
// not queue. Without MaxWeight, w is 0 and ws nil.
func (ws *poolWeights[T]) giveBack(w int64) {
	if w != 0 {
		ws.release(w)
	}
}

// weightHeld is the weight Stats reports: 0 without MaxWeight.
func (p *Pool[T]) weightHeld() int64 {
	if p.weights == nil {
		return 0
	}
	return p.weights.held.Load()
}
