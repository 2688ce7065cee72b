package shepherd_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/shepherd-go/shepherd"
)

func TestSupervisorMisuseIsNamed(t *testing.T) {
	// Each misuse panics with a message that starts "shepherd:" and names
	// the fix, never a runtime error or a silent wedge.
	running := func(t *testing.T) (*shepherd.Supervisor, func()) {
		sup := shepherd.NewSupervisor("app")
		sup.Add("s", blockUntilDone)
		errc := make(chan error, 1)
		go func() { errc <- sup.Run(context.Background()) }()
		spinUntil(t, func() bool { return sup.Snapshot().State == shepherd.StateRunning })
		return sup, func() {
			sup.Stop(context.Background())
			if err := <-errc; err != nil {
				t.Errorf("Run() = %v; want nil", err)
			}
		}
	}
	cases := []struct {
		name string
		call func(t *testing.T)
		want string
	}{
		{"Stop(nil) on a running supervisor", func(t *testing.T) {
			sup, stop := running(t)
			defer stop()
			sup.Stop(nilCtx)
		}, "Stop(nil)"},
		{"zero Supervisor Run", func(t *testing.T) {
			t.Errorf("Run = %v; want a panic", new(shepherd.Supervisor).Run(context.Background()))
		}, "NewSupervisor"},
		{"zero Supervisor Add", func(*testing.T) { new(shepherd.Supervisor).Add("x", blockUntilDone) }, "NewSupervisor"},
		{"zero Supervisor Stop", func(*testing.T) { new(shepherd.Supervisor).Stop(context.Background()) }, "NewSupervisor"},
		{"Add a nil *Supervisor", func(*testing.T) {
			shepherd.NewSupervisor("app").Add("x", (*shepherd.Supervisor)(nil))
		}, "nil *Supervisor"},
		{"root name with a slash", func(*testing.T) { shepherd.NewSupervisor("app/x") }, `"/"`},
		{"Backoff with a NaN jitter", func(*testing.T) {
			shepherd.NewSupervisor("app").Add("x", blockUntilDone, shepherd.Backoff{Jitter: math.NaN()})
		}, "Jitter in [0, 1]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := mustPanic(t, func() { tc.call(t) })
			if !strings.HasPrefix(msg, "shepherd: ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("panic %q; want a shepherd: message naming %q", msg, tc.want)
			}
		})
	}
}

func TestStopNilLeavesSupervisorUsable(t *testing.T) {
	// After Stop(nil) panicked, the supervisor still stops and Snapshot
	// still answers: the panic happened before any lock was taken.
	sup := shepherd.NewSupervisor("app")
	sup.Add("s", blockUntilDone)
	errc := make(chan error, 1)
	go func() { errc <- sup.Run(context.Background()) }()
	spinUntil(t, func() bool { return sup.Snapshot().State == shepherd.StateRunning })
	mustPanic(t, func() { sup.Stop(nilCtx) })
	sup.Stop(context.Background())
	if err := <-errc; err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
}
