package shepherd_test

import (
	"context"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

func TestEqualNamedTreesAreIndependent(t *testing.T) {
	// Two trees both called "app", each running "x": stopping one neither
	// waits for nor reports the other's goroutines, although their paths
	// are equal.
	other := shepherd.NewSupervisor("app")
	other.Add("x", blockUntilDone)
	otherCtx, stopOther := context.WithCancel(context.Background())
	otherErr := make(chan error, 1)
	go func() { otherErr <- other.Run(otherCtx) }()
	defer func() {
		stopOther()
		if err := <-otherErr; err != nil {
			t.Errorf("the other tree's Run() = %v; want nil", err)
		}
	}()
	spinUntil(t, func() bool {
		st := other.Snapshot()
		return len(st.Children) == 1 && st.Children[0].State == shepherd.StateRunning
	})

	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(time.Second))
	sup.Add("x", blockUntilDone)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- sup.Run(ctx) }()
	spinUntil(t, func() bool {
		st := sup.Snapshot()
		return len(st.Children) == 1 && st.Children[0].State == shepherd.StateRunning
	})
	start := time.Now()
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run() = %v; want nil: the other tree's app/x is not this tree's", err)
	}
	if took := time.Since(start); took >= time.Second {
		t.Fatalf("Run took %v to stop; want less than its 1s budget", took)
	}
}
