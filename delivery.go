package shepherd

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/shepherd-go/shepherd/goroutines"
)

// This file owns event delivery: the goroutine and bounded queue through
// which a tree's events reach its Logger and OnEvent hook, in the order they
// were posted, and the containment of those sinks. A supervisor that sets a
// sink owns one deliverer for the length of its Run; nested supervisors
// that set none post to their parent's. The deliverers of one tree share a
// sequence (delivery_order.go), which keeps the tree's events in one order.

// eventQueueSize bounds the events waiting for a slow sink. Past it, events
// are dropped and counted, never waited for: a sink that cannot keep up
// loses lines, the tree does not lose time.
const eventQueueSize = 4096

// A delivery is one posted event, or one plain log line when msg is set.
type delivery struct {
	ticket uint64 // its place in the tree's order; see sequence
	ctx    context.Context
	e      Event
	quiet  bool // a failure that only echoes a stop: logged below Error

	msg   string
	level slog.Level
	attrs []slog.Attr
}

// A deliverer is the goroutine that calls a tree's sinks, and its queue.
type deliverer struct {
	ev    *events
	seq   *sequence       // the tree's order, shared with the other deliverers of the tree
	label string          // its goroutines' path label; the stuck report's name for it
	tree  string          // its goroutines' tree label
	ctx   context.Context // carries label, which goroutines a hook starts inherit

	q       chan delivery
	closed  atomic.Bool  // no more posts are taken
	dropped atomic.Int64 // posts refused because q was full
	quit    chan struct{}
	done    chan struct{} // closed when the last delivery returned
	gid     atomic.Uint64 // the delivering goroutine, for Stop called from a sink
	behind  atomic.Bool   // waiting for another deliverer of the tree to deliver an earlier event
}

// newDeliverer starts the delivery goroutine for ev, named after the
// supervisor at path and the sinks it calls; seq is the tree's order.
func newDeliverer(ev *events, seq *sequence, tree, path string) *deliverer {
	label := path + " (" + sinkNames(ev) + ")"
	d := &deliverer{
		ev:    ev,
		seq:   seq,
		label: label,
		tree:  tree,
		ctx:   pprof.WithLabels(context.Background(), pprof.Labels(labelPath, label, labelTree, tree)),
		q:     make(chan delivery, eventQueueSize),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	ev.q = d
	go d.run()
	return d
}

func sinkNames(ev *events) string {
	switch {
	case ev.log != nil && ev.hook != nil:
		return "Logger, OnEvent hook"
	case ev.log != nil:
		return "Logger"
	}
	return "OnEvent hook"
}

// post queues x without ever blocking.
func (d *deliverer) post(x delivery) {
	if d.closed.Load() {
		return // the owner's Run is over: nobody would wait for the delivery
	}
	// The ticket is taken and queued under the sequence's lock, so that
	// tickets are queued in their order; a dropped post takes none, so
	// nobody waits for it.
	q := d.seq
	q.mu.Lock()
	x.ticket = q.posted
	select {
	case d.q <- x:
		q.posted++
	default:
		d.dropped.Add(1)
	}
	q.mu.Unlock()
}

// run delivers until the owner closes the queue and it is empty. A sink
// that calls runtime.Goexit ends this goroutine; it is reported, and a new
// goroutine takes over the queue.
func (d *deliverer) run() {
	setLabels(d.ctx)
	d.gid.Store(goid())
	finished := false
	defer func() {
		if !finished {
			go d.run()
		}
	}()
	for {
		select {
		case x := <-d.q:
			d.deliverInTurn(x)
			continue
		case <-d.quit:
		}
		for {
			select {
			case x := <-d.q:
				d.deliverInTurn(x)
				continue
			default:
			}
			finished = true
			// Run returns once done is closed, maybe before this
			// goroutine has exited: without the tree's labels by then,
			// it is not taken for something the tree left running.
			setLabels(context.Background())
			close(d.done)
			return
		}
	}
}

// deliverInTurn delivers x once every event posted before it in the tree
// was delivered. The turn passes on even if a sink ends the goroutine.
func (d *deliverer) deliverInTurn(x delivery) {
	d.seq.await(x.ticket, d.gid.Load(), &d.behind)
	defer d.seq.finish()
	d.deliver(x)
}

// deliver hands x to the Logger, then to the hook, each contained on its
// own: a Logger that panics does not cost the hook its event.
func (d *deliverer) deliver(x delivery) {
	ev := d.ev
	if n := d.dropped.Swap(0); n > 0 && ev.log != nil {
		d.call(d.label+" (Logger)", ev.logOwner, func() {
			ev.log.LogAttrs(context.Background(), slog.LevelWarn, "shepherd: events dropped: a sink fell behind",
				slog.String("path", d.label), slog.Int64("dropped", n))
		})
	}
	if x.msg != "" {
		d.call(d.label+" (Logger)", ev.logOwner, func() { ev.log.LogAttrs(orBackground(x.ctx), x.level, x.msg, x.attrs...) })
		return
	}
	if ev.log != nil {
		d.call(x.e.Path+" (Logger)", ev.logOwner, func() { ev.logEvent(x.ctx, x.e, x.quiet) })
	}
	if ev.hook != nil {
		d.call(x.e.Path+" (OnEvent hook)", ev.hookOwner, func() { ev.hook(x.e) })
	}
}

// call runs fn, a sink, and reports its panic or runtime.Goexit as a
// failure of owner, the supervisor that set the sink.
func (d *deliverer) call(name string, owner *Supervisor, fn func()) {
	returned := false
	defer func() {
		if returned {
			return
		}
		err := exitError(name, recover())
		if owner != nil {
			owner.hookFailed(err)
		}
	}()
	fn()
	returned = true
}

// close stops taking posts and waits, until deadline, for what is queued
// to be delivered. A sink still running at the deadline is reported as a
// *StuckError under the deliverer's label, with its stacks; budget is the
// shutdown budget that ran out.
//
// The events of a stop that used up its budget (a service named stuck at
// the deadline) are queued when the deadline has passed: the sinks get
// minForceWait to take them, as a service gets to return once forced, so
// that a sink that is merely not done yet is not named stuck and the
// events are not lost.
func (d *deliverer) close(deadline time.Time, budget time.Duration) error {
	d.closed.Store(true)
	close(d.quit)
	t := time.NewTimer(max(time.Until(deadline), minForceWait))
	defer t.Stop()
	select {
	case <-d.done:
		return nil
	case <-t.C:
	}
	if d.behind.Load() {
		// None of this deliverer's sinks is running: it waits for another
		// deliverer of the tree, which names its own stuck sink.
		return nil
	}
	all := goroutines.All()
	return &StuckError{Budget: max(0, budget).Round(time.Millisecond),
		Tasks: []StuckTask{{Path: d.label, Goroutines: goroutinesUnder(all, d.tree, d.label)}}}
}

// onThisGoroutine reports whether the caller is the delivering goroutine.
func (d *deliverer) onThisGoroutine() bool {
	return d != nil && !closed(d.done) && d.gid.Load() == goid()
}

// goid returns the calling goroutine's id, read from its stack header
// ("goroutine 12 [running]:"). Only Stop asks, and only to spot a call from
// a sink, which Run is waiting for.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
