package shepherd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

// A run's context is cancelled once its Run returns, as errgroup's is once
// Wait returns: a goroutine the run left watching it stops then, while the
// tree goes on, not never (the tree's stop cancels only the current runs).
func TestRunContextEndsWithTheRun(t *testing.T) {
	t.Run("finished", func(t *testing.T) {
		left := make(chan error, 1)
		sup := shepherd.NewSupervisor("app")
		sup.Add("once", shepherd.ServiceFunc(func(ctx context.Context) error {
			go func() {
				<-ctx.Done()
				left <- context.Cause(ctx)
			}()
			return nil
		}))
		sup.Add("keep", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		}))
		res := make(chan error, 1)
		go func() { res <- sup.Run(context.Background()) }()
		select {
		case cause := <-left:
			if cause == nil || errors.Is(cause, context.Canceled) {
				t.Errorf("Cause = %v; want the library's cause saying Run returned", cause)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the goroutine app/once left still waits on its context 10 s after the run returned")
		}
		sup.Stop(context.Background())
		if err := <-res; err != nil {
			t.Fatalf("Run() = %v; want nil", err)
		}
	})
	t.Run("restarted", func(t *testing.T) {
		// Each run of a failing service leaves a goroutine on its context;
		// the next run waits for the last one's to end: the old context
		// is cancelled as the service restarts, the new one is not.
		const runs = 5
		ended := make(chan struct{}, runs)
		n := 0
		deadline := time.Now().Add(10 * time.Second)
		sup := shepherd.NewSupervisor("app")
		sup.Add("flaky", shepherd.ServiceFunc(func(ctx context.Context) error {
			if n++; n > 1 {
				select {
				case <-ended:
				case <-time.After(time.Until(deadline)):
					return errors.New("the last run's goroutine still waits on its context")
				}
			}
			if ctx.Err() != nil {
				return errors.New("a new run's context is done at its start")
			}
			if n > runs {
				return shepherd.ErrStopTree
			}
			go func() {
				<-ctx.Done()
				ended <- struct{}{}
			}()
			return errors.New("fail")
		}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{})
		if err := sup.Run(context.Background()); !errors.Is(err, shepherd.ErrStopTree) {
			t.Fatalf("Run() = %v; want ErrStopTree", err)
		}
	})
}

// drainer is a Stopper whose Stop makes Run return and then goes on
// draining through Run's context, as an http.Server's Shutdown does with
// requests whose context derives from it.
type drainer struct {
	quit     chan struct{}
	returned chan struct{}
	runCtx   chan context.Context
	started  chan struct{}
	cut      chan error // what Stop saw while it drained: nil, or the cause that cut it
}

func (d *drainer) Run(ctx context.Context) error {
	d.runCtx <- ctx
	close(d.started)
	<-d.quit
	close(d.returned)
	return nil
}

func (d *drainer) Stop(context.Context) error {
	ctx := <-d.runCtx
	close(d.quit)
	<-d.returned
	// The drain: Run has returned, and its context must hold until Stop
	// returns. On the broken code it was cancelled microseconds after Run
	// returned, well inside this window.
	select {
	case <-ctx.Done():
		d.cut <- context.Cause(ctx)
	case <-time.After(100 * time.Millisecond):
		d.cut <- nil
	}
	return nil
}

// A Stopper's Run context is cancelled only after its Stop returned, even
// though Stop made Run return first: the cancellation of a run that ended
// on its own does not apply to a run that was asked to stop.
func TestStopperDrainsThroughRunsContextAfterRunReturned(t *testing.T) {
	d := &drainer{quit: make(chan struct{}), returned: make(chan struct{}),
		runCtx: make(chan context.Context, 1), started: make(chan struct{}), cut: make(chan error, 1)}
	sup := shepherd.NewSupervisor("app")
	sup.Add("server", d)
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- sup.Run(ctx) }()
	<-d.started
	cancel()
	if err := <-res; err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if cause := <-d.cut; cause != nil {
		t.Errorf("Run's context was cancelled while Stop drained (cause: %v); want it held until Stop returned", cause)
	}
}
