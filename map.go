package shepherd

import (
	"context"
	"strconv"
	"sync/atomic"
)

// Map calls fn for every item with at most limit calls running at once, and
// returns the results in the order of items.
//
// The first failing call (an error or a panic) cancels the context the
// other calls see, and no further item is started. The error follows the
// rules of Group.Wait; each failure names its item, as in
// `task "map[3]": not found`. When ctx is done before every item ran, Map
// returns ctx's cause. On error, the results of items that did not finish
// are the zero value of R.
//
// Map runs min(limit, len(items)) goroutines, not one per item. It panics if
// limit is less than 1 or fn is nil.
func Map[T, R any](ctx context.Context, items []T, limit int, fn func(ctx context.Context, item T) (R, error)) ([]R, error) {
	if fn == nil {
		panic("shepherd: Map(nil fn): pass the function to call for each item")
	}
	out := make([]R, len(items))
	err := each(ctx, "Map", len(items), limit, func(ctx context.Context, i int) (err error) {
		out[i], err = fn(ctx, items[i])
		return err
	})
	return out, err
}

// ForEach calls fn for every item with at most limit calls running at once.
// It stops early and returns on the first failure under the same rules as
// Map.
func ForEach[T any](ctx context.Context, items []T, limit int, fn func(ctx context.Context, item T) error) error {
	if fn == nil {
		panic("shepherd: ForEach(nil fn): pass the function to call for each item")
	}
	return each(ctx, "ForEach", len(items), limit, func(ctx context.Context, i int) error {
		return fn(ctx, items[i])
	})
}

// each runs call(ctx, i) for i in [0, n) on min(limit, n) workers that take
// the next index from a shared counter.
func each(ctx context.Context, fname string, n, limit int, call func(context.Context, int) error) error {
	if limit < 1 {
		where := ""
		if sc := scopeOf(ctx); sc != nil && sc.path != "" {
			where = " in " + quote(sc.path)
		}
		panic("shepherd: " + fname + " with limit " + strconv.Itoa(limit) + where + ": limit must be at least 1; pass 1 to run the items one at a time")
	}
	g := NewGroup(ctx)
	base := g.path
	var next atomic.Int64
	worker := func(ctx context.Context) error {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := callItem(ctx, joinPath(base, "map"), i, call); err != nil {
				return err
			}
		}
	}
	for range min(limit, n) {
		g.Go("map", worker)
	}
	return g.Wait()
}

// callItem runs one item so that its failure, panic included, names the
// item rather than the worker that happened to run it.
func callItem(ctx context.Context, worker string, i int, call func(context.Context, int) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(itemPath(worker, i), r)
		}
	}()
	if err = call(ctx, i); err != nil && !echoes(ctx, err) {
		err = &TaskError{Path: itemPath(worker, i), Err: err}
	}
	return err
}

func itemPath(worker string, i int) string { return worker + "[" + strconv.Itoa(i) + "]" }
