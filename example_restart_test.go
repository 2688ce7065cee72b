package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/shepherd-go/shepherd"
)

// A flapping service is restarted with a growing backoff until it exceeds
// the supervisor's restart intensity; then the supervisor gives up and
// reports which service it was and why.
func ExampleRestart() {
	var runs atomic.Int32
	sup := shepherd.NewSupervisor("app",
		shepherd.MaxRestarts(3, time.Minute),
		shepherd.OnEvent(func(e shepherd.Event) {
			if e.State == shepherd.StateRestarting {
				fmt.Printf("restart %d of %s after: %v\n", e.Attempt, e.Path, e.Err)
			}
		}))
	sup.Add("flapping", shepherd.ServiceFunc(func(ctx context.Context) error {
		return fmt.Errorf("connection reset (run %d)", runs.Add(1))
	}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: time.Millisecond, Max: 4 * time.Millisecond})
	fmt.Println(sup.Run(context.Background()))
	// Output:
	// restart 1 of app/flapping after: connection reset (run 1)
	// restart 2 of app/flapping after: connection reset (run 2)
	// restart 3 of app/flapping after: connection reset (run 3)
	// shepherd: supervisor "app" gave up: service "app/flapping" exceeded 3 restarts in 1m0s; last failure: connection reset (run 4)
}

// In a pipeline each stage depends on the ones before it. With RestForOne,
// a failing stage is restarted together with every stage after it, in
// order; the stages before it keep running.
func ExampleStrategy() {
	ctx, cancel := context.WithCancel(context.Background())
	var transformRuns, sinkRuns atomic.Int32
	sinkStarted := make(chan struct{})
	stage := func(name string, body func(ctx context.Context) error) shepherd.ServiceFunc {
		return func(ctx context.Context) error {
			fmt.Println("start", name)
			shepherd.Ready(ctx)
			err := body(ctx)
			if errors.Is(err, context.Canceled) {
				fmt.Println("stop", name)
			}
			return err
		}
	}
	wait := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

	sup := shepherd.NewSupervisor("pipeline", shepherd.RestForOne)
	restart := []shepherd.ServiceOption{shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{}, shepherd.AwaitReady(time.Second)}
	sup.Add("source", stage("source", wait), restart...)
	sup.Add("transform", stage("transform", func(ctx context.Context) error {
		if transformRuns.Add(1) == 1 {
			<-sinkStarted
			return errors.New("bad record")
		}
		return wait(ctx)
	}), restart...)
	sup.Add("sink", stage("sink", func(ctx context.Context) error {
		switch sinkRuns.Add(1) {
		case 1:
			close(sinkStarted)
		case 2:
			cancel() // the pipeline is back: end the example
		}
		return wait(ctx)
	}), restart...)
	fmt.Println("Run:", sup.Run(ctx))
	// Output:
	// start source
	// start transform
	// start sink
	// stop sink
	// start transform
	// start sink
	// stop sink
	// stop transform
	// stop source
	// Run: <nil>
}
