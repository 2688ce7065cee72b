package shepherd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

// A task's context is done exactly when its group's is, with the same
// error, cause and deadline, and contexts derived from it follow it.
func TestTaskContextFollowsGroupContext(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	g := shepherd.NewGroup(parent)
	checked, watching := make(chan struct{}), make(chan struct{})
	g.Go("watch", func(ctx context.Context) error {
		defer close(checked)
		if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
			t.Errorf("ctx.Deadline() = %v, %v; want %v, true", d, ok, deadline)
		}
		if err := ctx.Err(); err != nil {
			t.Errorf("ctx.Err() before the failure = %v; want nil", err)
		}
		child, stop := context.WithCancel(ctx)
		defer stop()
		fired := make(chan struct{})
		context.AfterFunc(ctx, func() { close(fired) })
		close(watching)
		<-ctx.Done()
		<-child.Done()
		<-fired
		for range 2 { // the second call answers from what the first learned
			if err := ctx.Err(); !errors.Is(err, context.Canceled) {
				t.Errorf("ctx.Err() = %v; want %v", err, context.Canceled)
			}
		}
		if err := context.Cause(ctx); !errors.Is(err, errBoom) {
			t.Errorf("context.Cause(ctx) = %v; want it to wrap %v", err, errBoom)
		}
		if err := context.Cause(child); !errors.Is(err, errBoom) {
			t.Errorf("context.Cause(derived ctx) = %v; want it to wrap %v", err, errBoom)
		}
		if got := shepherd.Path(ctx); got != "watch" {
			t.Errorf("Path(ctx) = %q; want %q", got, "watch")
		}
		return ctx.Err()
	})
	g.Go("fail", func(context.Context) error { <-watching; return errBoom })
	<-checked
	if err := g.Wait(); err == nil || err.Error() != `task "fail": boom` {
		t.Fatalf("Wait() = %v; want only the failure of \"fail\"", err)
	}
}

// A task that returns a cancellation error of its own, while the group is
// still running, has failed: only the group's own cancellation is an echo.
func TestForeignCancellationIsAFailure(t *testing.T) {
	g := shepherd.NewGroup(context.Background())
	g.Go("inner", func(ctx context.Context) error {
		inner, cancel := context.WithCancel(ctx)
		cancel()
		return inner.Err()
	})
	if err := g.Wait(); !errors.Is(err, context.Canceled) || err.Error() != `task "inner": context canceled` {
		t.Fatalf("Wait() = %v; want task \"inner\" failed with %v", err, context.Canceled)
	}
}
