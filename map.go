package shepherd

import (
	"context"
	"strconv"
	"sync/atomic"
)

// Map calls fn for every item with at most limit calls running at once, and
// returns the results in the order of items.
//
// The first failing call (an error, a panic or runtime.Goexit) cancels the
// context the other calls see, and no further item is started. The error
// follows the rules of Group.Wait; each failure names its item, as in
// `task "map[3]": not found`. When ctx is done before every item ran, Map
// returns ctx's cause.
//
// An item has a result only if its call returned a nil error: the result of
// an item whose call failed, even one that also returned a value, and of an
// item that never ran, is the zero value of R.
//
// Map runs min(limit, len(items)) goroutines, not one per item. It panics
// if ctx or fn is nil or limit is less than 1.
func Map[T, R any](ctx context.Context, items []T, limit int, fn func(ctx context.Context, item T) (R, error)) ([]R, error) {
	if fn == nil {
		panic("shepherd: Map(nil fn): pass the function to call for each item")
	}
	out := make([]R, len(items))
	err := each(ctx, "Map", len(items), limit, func(ctx context.Context, b *batch) (err error) {
		var at cursor
		defer b.exit(&at, &err)
		for {
			i := b.take()
			if i < 0 || b.group.Err() != nil {
				return b.end(&at, ctx)
			}
			at.i = i
			r, err := fn(ctx, items[i])
			if err != nil {
				return b.failed(&at, ctx, err)
			}
			out[i] = r
		}
	})
	return out, err
}

// ForEach calls fn for every item with at most limit calls running at once.
// It stops early and returns on the first failure under the same rules as
// Map, and panics in the same cases.
func ForEach[T any](ctx context.Context, items []T, limit int, fn func(ctx context.Context, item T) error) error {
	if fn == nil {
		panic("shepherd: ForEach(nil fn): pass the function to call for each item")
	}
	return each(ctx, "ForEach", len(items), limit, func(ctx context.Context, b *batch) (err error) {
		var at cursor
		defer b.exit(&at, &err)
		for {
			i := b.take()
			if i < 0 || b.group.Err() != nil {
				return b.end(&at, ctx)
			}
			at.i = i
			if err := fn(ctx, items[i]); err != nil {
				return b.failed(&at, ctx, err)
			}
		}
	})
}

// each runs min(limit, n) workers in a group; the workers share a batch
// and take the next item from its counter until none is left.
func each(ctx context.Context, fname string, n, limit int, worker func(context.Context, *batch) error) error {
	if ctx == nil {
		panic("shepherd: " + fname + "(nil ctx): pass context.Background() or the caller's context")
	}
	if limit < 1 {
		where := ""
		if sc := scopeOf(ctx); sc != nil && sc.path != "" {
			where = " in " + quote(sc.path)
		}
		panic("shepherd: " + fname + " with limit " + strconv.Itoa(limit) + where + ": limit must be at least 1; pass 1 to run the items one at a time")
	}
	g := NewGroup(ctx)
	b := &batch{n: int64(n), path: joinPath(g.path, "map"), group: g.ctx}
	run := func(ctx context.Context) error { return worker(ctx, b) }
	for range min(limit, n) {
		g.Go("map", run)
	}
	return g.Wait()
}

// batch is what the workers of one Map or ForEach share.
type batch struct {
	n    int64
	path string // the workers' path; item i is path[i]
	// group is the group's own context, which the workers' contexts
	// follow. Workers ask it, not their own, whether to take another item:
	// its Err is an atomic load, where a task context's Err receives from
	// its Done channel, which costs several times more. The check is exact:
	// an item that cancels ctx, or sees something that happened after ctx
	// was cancelled, is the last one its worker runs. A flag set by
	// context.AfterFunc would cost less, but is set by a goroutine of its
	// own, some time after the cancellation.
	group context.Context

	// next is written by every worker for every item. On a cache line of
	// its own, those writes do not evict the fields above, which every
	// worker reads for every item too.
	_    [64]byte
	next atomic.Int64
	_    [56]byte
}

// cursor is where one worker is: the item it runs, and whether it
// returned rather than panicked or called runtime.Goexit.
type cursor struct {
	i        int
	returned bool
}

// take returns the index of the next item, or -1 when none is left.
func (b *batch) take() int {
	if i := b.next.Add(1) - 1; i < b.n {
		return int(i)
	}
	return -1
}

// end is a worker's return when no item is left or ctx is done.
func (b *batch) end(at *cursor, ctx context.Context) error {
	at.returned = true
	return ctx.Err()
}

// failed is a worker's return when item at.i failed: the error names the
// item, unless it only echoes the cancellation of ctx.
func (b *batch) failed(at *cursor, ctx context.Context, err error) error {
	at.returned = true
	if echoes(ctx, err) {
		return err
	}
	return &TaskError{Path: itemPath(b.path, at.i), Err: err}
}

// exit, deferred by each worker, turns a panic or runtime.Goexit in an
// item into that item's failure. A worker recovers once, not once per
// item: the first failure stops the batch, so the worker has no further
// item to run after one panicked, and the loop pays nothing per item for
// the recovery.
func (b *batch) exit(at *cursor, err *error) {
	if at.returned {
		return
	}
	r := recover()
	path := itemPath(b.path, at.i)
	if r == nil {
		// runtime.Goexit: the goroutine ends whatever happens here. The
		// item's failure travels to the task's deferred function, which
		// reports it in place of the worker's.
		panic(&goexitReport{err: &TaskError{Path: path, Err: ErrGoexit}})
	}
	*err = newPanicError(path, r)
}

func itemPath(worker string, i int) string { return worker + "[" + strconv.Itoa(i) + "]" }
