package shepherd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/multierr"
)

// ErrQueueFull is returned by TrySubmit when the pool's queue has no room.
var ErrQueueFull = errors.New("shepherd: queue full")

// ErrUnprocessed is wrapped in the error Run returns when items the pool
// accepted were neither handled nor handed back because no OnUnprocessed
// was given to take them.
var ErrUnprocessed = errors.New("shepherd: accepted items not processed")

// A Pool handles a stream of items of type T on a set number of
// long-lived worker goroutines (see Resize), with a bounded queue in front
// of them. It
// is the owned replacement for go report(x) in a request handler: the
// number of goroutines does not grow with the load, a full queue pushes
// back on the submitters, and a stop drains the queue instead of losing it.
//
// Every item Submit or TrySubmit accepted is either handled (its handler
// is called and returns, whatever it returns, unless the error only echoes
// the cancellation of a stop) or handed back to the owner through
// OnUnprocessed, exactly once; without OnUnprocessed, items given up are
// counted in the error Run returns. A handler's error or panic is that
// item's failure: it is counted in Stats, reported to the Logger and
// OnEvent of the supervision tree the pool runs in under the item's path
// (such as "app/reports[17]"), and the worker goes on with the next item,
// unless the pool was made with StopOnError. A pool run outside any tree
// has nowhere to report to and only counts failures.
//
// A Pool is a Service: add it to a Supervisor before the services that
// submit to it, so it starts before them and stops after them. It can also
// run as a task of a Group (g.Go("reports", pool.Run)), stopped with Close.
// A Pool runs once: do not give it a Restart policy, make a new pool
// instead.
//
// Submit and a worker's dequeue do not allocate, and an item costs little
// more than a send and a receive on a buffered channel: for Submit, two
// uncontended atomic adds and an atomic load (is an observer
// attached?); for the worker, one add and two loads (its context's state,
// and the observer). BenchmarkPool compares the two.
type Pool[T any] struct {
	// Written by every Submit: kept together, away from the rest.
	seq  atomic.Int64 // Submit and TrySubmit calls so far, plus closedBit once closed
	left atomic.Int64 // calls made before the close that have returned
	_    [128 - 16]byte

	// Written only when Submit has to wait, or at stop: off the lines the
	// hot path reads.
	rejected    atomic.Int64 // positions taken by calls that queued nothing
	waiting     atomic.Int64 // positions held by calls blocked for room
	handedBack  atomic.Int64
	interrupted atomic.Int64 // of handedBack, those cut short in flight
	live        atomic.Int32 // worker goroutines running
	ctxCut      atomic.Bool  // Run's ctx was done when the last worker exited
	_           [128 - 40]byte

	// Read by every Submit or every item, written once.
	closedAt atomic.Int64                 // the calls made before the close; -1 while open
	obs      atomic.Pointer[poolObserver] // nil unless Observe attached one
	aborted  atomic.Bool                  // abort has begun
	queue    chan entry[T]
	handle   func(ctx context.Context, item T) error
	hctx     context.Context // the context handlers get; set by Run
	runDone  <-chan struct{} // Run's ctx.Done()

	name          string
	workers       int
	onUnprocessed func(T)
	key           func(T) string
	stopOnError   bool
	errClosed     error // ErrClosed, naming the pool
	errFull       error // ErrQueueFull, naming the pool

	closing    chan struct{} // closed when the pool stops accepting
	closeOnce  sync.Once
	queueOnce  sync.Once
	finished   chan struct{} // closed when the last worker has exited
	stats      []workerStats // one per worker
	handMu     sync.Mutex    // one hand-back at a time; held through a drain (see handBack)
	drainNoted atomic.Bool

	mu      sync.Mutex
	state   poolState
	ran     bool
	path    string
	ev      *events
	hcancel context.CancelCauseFunc
	stopErr error // the failure that stopped a StopOnError pool
	errs    error // panics and Goexits of OnUnprocessed

	weights *poolWeights[T] // MaxWeight (pool_weight.go), nil without
	size    poolSize        // the number of workers, for Resize (pool_resize.go)
}

// entry is an item with its position, for failure reports.
type entry[T any] struct {
	item T
	seq  int64 // -1 for a Resize's stop signal to a surplus worker (pool_resize.go)
	w    int64 // the weight the item holds (pool_weight.go), 0 without MaxWeight
	at   int64 // monoNow at Submit when an observer is attached, else 0
}

type poolState int

const (
	poolIdle poolState = iota
	poolRunning
	poolDone
)

// closedBit is set in Pool.seq once the pool stops accepting; the bits
// below it count the calls of Submit and TrySubmit, and so give each its
// position.
const closedBit = 1 << 62

// NewPool returns a Pool called name that handles items with handle on
// workers goroutines, once Run is called. handle gets a context with the
// values of Run's context (the pool's path and pprof labels among them).
// It is cancelled when Run's context is done, a stop's deadline passes, or
// a StopOnError pool fails, each time only after the workers have stopped
// taking items from the queue; handle should then return soon.
//
// name is the pool's path when it runs outside a Supervisor or Group;
// inside one it takes the path of its service or task instead, as in
// "app/reports".
//
// The pool's settings come in two kinds. Those that mention the item
// type T are methods of *Pool[T] that follow NewPool, so that the compiler
// checks the function's type: OnUnprocessed, ItemKey and MaxWeight, each
// returning the pool and called before it is used. The rest are options
// given to NewPool: QueueSize and StopOnError.
//
//	reports := shepherd.NewPool("reports", 8, send, shepherd.QueueSize(64)).OnUnprocessed(spool)
//
// NewPool panics if name is empty or contains "/", workers is less than 1,
// handle is nil, or an option is nil or out of range (see QueueSize).
func NewPool[T any](name string, workers int, handle func(ctx context.Context, item T) error, opts ...PoolOption) *Pool[T] {
	switch {
	case name == "":
		panic("shepherd: NewPool with an empty name; name the pool after its work, like \"reports\"")
	case strings.Contains(name, "/"):
		panic("shepherd: NewPool(" + quote(name) + "): a name must not contain \"/\", which separates the names in a path; " +
			"name the pool after its work, like \"reports\", and let the tree it runs in give it its path")
	case workers < 1:
		panic("shepherd: NewPool(" + quote(name) + ", " + strconv.Itoa(workers) + " workers): a pool needs at least one worker")
	}
	if handle == nil {
		panic("shepherd: NewPool(" + quote(name) + ", nil handler): pass the function that handles each item")
	}
	c := poolSettings(name, workers, opts)
	checkQueueSize[T](name, c.queueSize)
	p := &Pool[T]{
		name:        name,
		path:        name,
		workers:     workers,
		handle:      handle,
		stopOnError: c.stopOnError,
		queue:       make(chan entry[T], c.queueSize),
		closing:     make(chan struct{}),
		finished:    make(chan struct{}),
		stats:       make([]workerStats, workers),
	}
	p.closedAt.Store(-1)
	p.errClosed = &scopedError{"shepherd: pool " + quote(name) + " is closed: it takes no more items once Close or Stop was called, or a StopOnError failure stopped it", ErrClosed}
	p.errFull = &scopedError{"shepherd: pool " + quote(name) + ": queue full (QueueSize " + strconv.Itoa(c.queueSize) + "); shed the item, or use Submit to wait for room", ErrQueueFull}
	return p
}

// check panics on a Pool that NewPool did not make, which would otherwise
// block forever on its nil queue.
func (p *Pool[T]) check(method string) {
	if p.queue == nil {
		panic("shepherd: Pool." + method + " on a Pool not made by NewPool; create it with shepherd.NewPool")
	}
}

// Submit queues item for a worker. While the queue is full it blocks until
// there is room, ctx is done (it returns ctx.Err()), or the pool stops
// accepting (it returns ErrClosed). When the queue has room Submit does not
// look at ctx, so an item may be accepted with a ctx that is already done.
//
// Submit may be called before Run: the items wait in the queue for the
// workers (and Submit blocks once it is full). Once Close or Stop was
// called, or a StopOnError pool failed, Submit returns ErrClosed. A nil
// error means the pool owns the item: it will be handled, or handed back
// (see OnUnprocessed).
func (p *Pool[T]) Submit(ctx context.Context, item T) error {
	p.check("Submit")
	if ctx == nil {
		panic("shepherd: pool " + quote(p.name) + ": Submit(nil, item): pass the caller's context; it bounds the wait for room")
	}
	var w int64
	if p.weights != nil { // the item's weight (pool_weight.go)
		var err error
		if w, err = p.weights.take(ctx, item, p.errClosed); err != nil {
			return err
		}
	}
	n := p.seq.Add(1)
	if n&closedBit != 0 {
		p.rejected.Add(1)
		p.weights.giveBack(w)
		return p.errClosed
	}
	e := entry[T]{item: item, seq: n - 1, w: w}
	if p.obs.Load() != nil {
		e.at = monoNow()
	}
	select {
	case p.queue <- e:
		p.leave()
		return nil
	default:
	}
	p.waiting.Add(1)
	var err error
	select {
	case p.queue <- e:
	case <-ctx.Done():
		err = ctx.Err()
	case <-p.closing:
		err = p.errClosed
	}
	// Stats reads rejected before waiting: a call moving from one to the
	// other must never be in both.
	p.waiting.Add(-1)
	if err != nil {
		p.rejected.Add(1)
		p.weights.giveBack(w)
	}
	p.leave()
	return err
}

// TrySubmit queues item if the queue has room and returns nil; otherwise it
// returns ErrQueueFull at once, or ErrClosed once the pool stops accepting.
// With QueueSize(0) it succeeds only when a worker is idle.
func (p *Pool[T]) TrySubmit(item T) error {
	p.check("TrySubmit")
	var w int64
	if p.weights != nil { // the item's weight (pool_weight.go)
		var err error
		if w, err = p.weights.tryTake(item, p.errClosed); err != nil {
			return err
		}
	}
	n := p.seq.Add(1)
	if n&closedBit != 0 {
		p.rejected.Add(1)
		p.weights.giveBack(w)
		return p.errClosed
	}
	e := entry[T]{item: item, seq: n - 1, w: w}
	if p.obs.Load() != nil {
		e.at = monoNow()
	}
	select {
	case p.queue <- e:
		p.leave()
		return nil
	default:
		p.rejected.Add(1)
		p.weights.giveBack(w)
		p.leave()
		return p.errFull
	}
}

// leave ends a call of Submit or TrySubmit made while the pool was open.
// The last such call to return after the pool closed closes the queue,
// which lets the workers finish once it is empty: no call can send on it
// any more.
func (p *Pool[T]) leave() {
	if p.left.Add(1) == p.closedAt.Load() {
		p.closeQueue()
	}
}

func (p *Pool[T]) closeQueue() { p.queueOnce.Do(func() { close(p.queue) }) }

// close stops accepting items. The queue itself is closed as soon as no
// Submit is placing an item; Submit calls blocked for room return
// ErrClosed.
//
// Calls that find closedBit set return without touching the queue. The
// others, made before, are counted by seq when the bit is set; the queue
// is closed once that many have left. Either the last of them sees
// closedAt, or close sees its departure in left: the atomics are
// sequentially consistent, so they cannot both miss.
func (p *Pool[T]) close() {
	p.closeOnce.Do(func() {
		close(p.closing)
		if p.weights != nil {
			p.weights.stop() // Submit calls waiting for weight return ErrClosed
		}
		n := p.seq.Or(closedBit)
		p.closedAt.Store(n)
		if p.left.Load() == n {
			p.closeQueue()
		}
	})
}

// signalsReady reports true: Run calls Ready once its workers run, so a
// Supervisor starts the services that submit to the pool only then.
func (p *Pool[T]) signalsReady() bool { return true }

// Run starts the workers and returns once the pool has stopped and every
// handler has returned. The pool stops in one of three ways:
//
//   - Close or Stop: the pool stops accepting, the workers handle every
//     queued item, and Run returns nil once they have finished (handler
//     failures are counted and reported, not returned). A Stop whose
//     deadline passes first cuts the drain short, as below, and Run still
//     returns nil when every item it gave up was handed back.
//   - ctx is done: the pool stops accepting, no worker starts another
//     item, the handlers' context is cancelled with ctx, the queued items
//     are handed back (see OnUnprocessed), and once the handlers have
//     returned Run returns ctx.Err(). It does so whenever ctx was done
//     before the drain finished, even if Close or Stop was called later.
//   - With StopOnError, a handler fails: as for ctx, and Run returns that
//     failure.
//
// Each way, an item whose handler returned only because the stop cancelled
// its context (its error only echoes the cancellation) was not handled: it
// is handed back too, and counted in Stats.Interrupted, not as a failure.
// Items that had to be given up when no OnUnprocessed was set add an error
// wrapping ErrUnprocessed that counts them; a panic or runtime.Goexit in
// OnUnprocessed adds its failure.
//
// Run calls Ready(ctx) once its workers run. Under a Supervisor, the
// supervisor calls Stop first, with the remaining shutdown budget as its
// deadline, and cancels ctx only after Stop returned, so a pool drains
// unless the budget runs out; to drain a pool run any other way, call
// Close or Stop rather than cancelling ctx.
//
// Run on a pool that was stopped before it started handles what is left in
// the queue (nothing, if a Stop's deadline already passed and handed the
// queue back) and returns. Calling Run a second time returns an error.
// Run panics if ctx is nil.
func (p *Pool[T]) Run(ctx context.Context) error {
	p.check("Run")
	if ctx == nil {
		panic("shepherd: pool " + quote(p.name) + ": Run(nil): pass a context; when it is done the pool stops and hands its queue back")
	}
	p.mu.Lock()
	if p.state != poolIdle {
		p.mu.Unlock()
		return errors.New("shepherd: pool " + quote(p.pathNow()) + ": Run called twice; a Pool runs once, make a new one")
	}
	p.state, p.ran = poolRunning, true
	if s := scopeOf(ctx); s != nil {
		p.ev = s.ev
		if s.path != "" {
			p.path = s.path
		}
	}
	// The handlers' context is done as soon as ctx is, or abort cancels
	// it; the workers look at it before each item, so none is started
	// once it is done. It marks itself as this pool's, for Stop.
	hctx := context.WithValue(taskContext(ctx, p.path, p.ev), ownPool{p}, true)
	p.hctx, p.hcancel = context.WithCancelCause(hctx)
	p.runDone = ctx.Done()
	p.mu.Unlock()

	cut := false
	if ctx.Err() != nil {
		cut = true
		p.abort(context.Cause(ctx))
	}
	p.startWorkers() // pool_resize.go
	Ready(ctx)
	select {
	case <-p.finished:
	case <-ctx.Done():
		select {
		case <-p.finished:
		default:
			p.abort(context.Cause(ctx))
			<-p.finished
		}
	}
	// Which came first, the end of the drain or ctx, was settled by the
	// last worker; the select above may see both.
	cut = cut || p.ctxCut.Load()
	p.hcancel(ErrClosed)
	// A stop may still be handing back the last items it took: count
	// them once it is done.
	p.handMu.Lock()
	lost := p.unprocessed()
	p.handMu.Unlock()

	p.mu.Lock()
	p.state = poolDone
	err := multierr.Append(p.stopErr, p.errs)
	p.mu.Unlock()
	err = multierr.Append(err, lost)
	if cut && err == nil {
		err = ctx.Err()
	}
	p.log(slog.LevelInfo, "shepherd: pool stopped", nil)
	return err
}

// Close makes the pool stop accepting items (Submit returns ErrClosed) and
// drain: the workers handle every queued item, then Run returns. Close
// does not wait; use it to stop a pool run by a Group, or call Stop to wait
// with a deadline. Calling Close more than once, or on a pool that has
// stopped, does nothing. On a pool that has not run yet, Close lets Run
// handle the queued items and return.
func (p *Pool[T]) Close() {
	p.check("Close")
	p.close()
	p.mu.Lock()
	running := p.state == poolRunning
	p.mu.Unlock()
	if running && !p.drainNoted.Swap(true) {
		p.log(slog.LevelInfo, "shepherd: pool draining", nil)
	}
}

// Stop closes the pool like Close and waits until the queue is drained and
// every handler has returned, then returns nil. If ctx is done first, Stop
// cuts the drain short: it cancels the handlers' context, hands every
// queued item back (see OnUnprocessed), logs the counts, and returns nil
// without waiting for the handlers (the items they give up on because of
// the cancellation are handed back as they return); Run returns once they have, with an
// ErrUnprocessed error if items were given up with no OnUnprocessed to
// take them. Nothing was lost, so the cut is not a failure of its own. On
// a pool whose Run never started, Stop returns an error wrapping ctx.Err()
// and counting the items it gave up.
// Under a Supervisor, handlers that still do not return are reported in a
// *StuckError with the stacks of the pool's goroutines.
//
// Stop on a pool whose Run has not started yet waits for Run to start and
// drain the queue, so that go pool.Run(ctx) followed by pool.Stop(ctx)
// drains like it reads; give ctx a deadline if Run might never be called.
// After Run returned, Stop returns nil at once.
//
// A handler must not wait for its own pool to stop: when ctx is the
// handler's context, or derived from it, Stop closes the pool like Close
// and returns an error at once instead of waiting forever. Stop panics if
// ctx is nil.
func (p *Pool[T]) Stop(ctx context.Context) error {
	p.check("Stop")
	if ctx == nil {
		panic("shepherd: pool " + quote(p.pathNow()) + ": Stop(nil): pass a context; its deadline bounds the drain, after which the queue is handed back")
	}
	if ctx.Value(ownPool{p}) != nil {
		p.Close()
		return errors.New("shepherd: pool " + quote(p.pathNow()) + ": Stop called by one of its own handlers, which Stop would wait for forever; " +
			"the pool is closed and drains, but Stop did not wait: call Close from a handler, and Stop from outside the pool")
	}
	p.Close()
	select {
	case <-p.finished:
		return nil
	case <-ctx.Done():
	}
	select {
	case <-p.finished:
		return nil
	default:
	}
	err := fmt.Errorf("shepherd: pool %q: stop deadline passed before the queue drained: %w", p.pathNow(), ctx.Err())
	p.abort(err)
	p.mu.Lock()
	ran := p.ran
	p.mu.Unlock()
	if !ran {
		// No Run to report the items given up, or that it never came;
		// Stop is the last word unless Run is called later.
		return multierr.Append(err, p.unprocessed())
	}
	return nil
}

// ownPool marks the context of a pool's handlers, so that Stop can tell
// when it is called by one of them.
type ownPool struct{ p any }

func (p *Pool[T]) pathNow() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.path
}

// abort stops the pool without draining: no more items are accepted or
// started, the handlers' context is cancelled with cause, and the queued
// items are handed back. It returns once the queue is empty; a worker that
// took an item just before hands it back itself.
func (p *Pool[T]) abort(cause error) {
	p.close()
	first := !p.aborted.Swap(true)
	if first {
		p.mu.Lock()
		cancel := p.hcancel
		p.mu.Unlock()
		if cancel != nil {
			cancel(cause)
		}
	}
	p.handBack(func() (entry[T], bool) {
		e, ok := <-p.queue
		return e, ok
	})
	if first {
		p.log(slog.LevelWarn, "shepherd: pool stopped before its queue drained", cause)
	}
}

// work is a worker goroutine: it handles items until the queue is closed
// and empty.
func (p *Pool[T]) work(w *workerStats) {
	setLabels(p.hctx)
	exited := true
	defer func() {
		if exited {
			// A handler called runtime.Goexit, which ends this goroutine
			// whatever we do; the item was counted as failed, and a new
			// worker takes this one's place.
			p.live.Add(1)
			go p.work(w)
		}
		if p.live.Add(-1) == 0 {
			// Every item has been handled or handed back: if Run's ctx
			// is done by now, it cut the drain short (or there was
			// nothing left to cut), and Run reports it.
			select {
			case <-p.runDone:
				p.ctxCut.Store(true)
			default:
			}
			close(p.finished)
		}
	}()
	for !p.loop(w) {
	}
	exited = false
}

// loop takes items from the queue and handles them, or hands them back
// once the handlers' context is done, until the queue is closed and empty;
// then it reports true. A handler that panics ends the loop early: the panic is
// recovered, reported as that item's failure, and loop reports false so
// that work calls it again. Recovering once per panic rather than once per
// item keeps the cost of a deferred call off the hot path.
func (p *Pool[T]) loop(w *workerStats) (drained bool) {
	var e entry[T]
	inHandler := false
	defer func() {
		if drained || !inHandler {
			// A panic outside a handler is shepherd's own, or a Logger's:
			// it is not an item's failure, and is left to crash.
			return
		}
		r := recover()
		if e.w != 0 {
			p.weights.release(e.w)
		}
		path := p.itemPath(e)
		if r != nil {
			w.panicked.Add(1)
		} else {
			w.failed.Add(1)
		}
		p.itemFailed(path, exitError(path, r))
	}()
	for e = range p.queue {
		if e.seq < 0 { // a Resize made this worker surplus (pool_resize.go)
			p.retire(w)
			return true
		}
		// Checked before each item, so that none is started once Run's
		// ctx is done or the pool is aborted. hctx is a cancelCtx, whose
		// Err is one atomic load: cheaper than a non-blocking receive on
		// its Done channel, which is a call into the runtime.
		if p.hctx.Err() != nil {
			p.handBackOne(e)
			continue
		}
		inHandler = true
		var err error
		if o := p.obs.Load(); o != nil && e.at != 0 {
			// Only items stamped at Submit are timed: one accepted
			// before Observe has no queue wait to report.
			err = p.observe(o.o, e)
		} else {
			err = p.handle(p.hctx, e.item)
		}
		inHandler = false
		if e.w != 0 {
			// Released here, once: an item the stop interrupted is
			// handed back below without its weight.
			p.weights.release(e.w)
			e.w = 0
		}
		if err == nil {
			w.done.Add(1)
			continue
		}
		p.handlerFailed(w, e, err)
	}
	return true
}

// handlerFailed deals with an item whose handler returned err. If the
// handlers' context is done and err only echoes it, the stop interrupted
// the item before it was handled: it is handed back, not reported, since a
// shutdown's cancellation is no failure. Any other error is the item's
// failure.
func (p *Pool[T]) handlerFailed(w *workerStats, e entry[T], err error) {
	if echoes(p.hctx, err) {
		p.interrupted.Add(1)
		p.handBackOne(e)
		return
	}
	w.failed.Add(1)
	path := p.itemPath(e)
	p.itemFailed(path, attribute(path, err))
}

// itemPath names an item in failure reports: the pool's path and the
// item's key or position. ItemKey runs on a goroutine of its own, so that
// a runtime.Goexit in it ends only that goroutine, and the report of the
// failure is still made; a panic in it is recovered. Either way the
// position stands in for the key. Only failures pay for the goroutine.
func (p *Pool[T]) itemPath(e entry[T]) string {
	key := ""
	if p.key != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer func() { _ = recover() }()
			key = p.key(e.item)
		}()
		<-done
	}
	if key == "" {
		key = strconv.FormatInt(e.seq, 10)
	}
	return p.path + "[" + key + "]"
}

func (p *Pool[T]) itemFailed(path string, err error) {
	p.ev.failed(p.hctx, path, err)
	if !p.stopOnError {
		return
	}
	p.mu.Lock()
	first := p.stopErr == nil
	if first {
		p.stopErr = err
	}
	p.mu.Unlock()
	if first {
		p.abort(err)
	}
}

// log writes one line about the pool, with its counters, to the Logger of
// the tree it runs in, if any.
func (p *Pool[T]) log(level slog.Level, msg string, err error) {
	p.mu.Lock()
	ev, path, hctx := p.ev, p.path, p.hctx
	p.mu.Unlock()
	if !ev.logs() {
		return
	}
	s := p.Stats()
	attrs := []slog.Attr{
		slog.String("path", path),
		slog.Int64("submitted", s.Submitted),
		slog.Int64("queued", s.Queued),
		slog.Int64("in_flight", s.InFlight),
		slog.Int64("done", s.Done),
		slog.Int64("failed", s.Failed),
		slog.Int64("panicked", s.Panicked),
		slog.Int64("handed_back", s.HandedBack),
		slog.Int64("interrupted", s.Interrupted),
	}
	if err != nil {
		attrs = append(attrs, slog.Any("cause", err))
	}
	ev.logAttrs(hctx, level, msg, attrs...)
}
