package goroutines_test

import (
	"testing"

	"github.com/shepherd-go/shepherd/goroutines"
)

// TestWaitsInSkipsPlumbing checks that WaitsIn passes over the runtime,
// the standard library's waiting primitives and shepherd's own frames to
// the program's line, and reports false when there is none.
func TestWaitsInSkipsPlumbing(t *testing.T) {
	app := goroutines.Frame{Function: "example.com/app.(*poller).wait", File: "/app/poller.go", Line: 42}
	s := goroutines.Stack{Frames: []goroutines.Frame{
		{Function: "runtime.gopark"},
		{Function: "runtime/pprof.Do"},
		{Function: "internal/sync.(*Mutex).lockSlow"},
		{Function: "sync.(*Mutex).Lock"},
		{Function: "time.NewTimer"},
		{Function: "context.(*cancelCtx).Done"},
		{Function: "github.com/shepherd-go/shepherd.(*Supervisor).runChild"},
		app,
		{Function: "example.com/app.main"},
	}}
	if f, ok := s.WaitsIn(); !ok || f != app {
		t.Errorf("WaitsIn() = %v, %v; want %v, true", f, ok, app)
	}
	s.Frames = s.Frames[:7]
	if f, ok := s.WaitsIn(); ok {
		t.Errorf("WaitsIn() of plumbing alone = %v, true; want false", f)
	}
}
