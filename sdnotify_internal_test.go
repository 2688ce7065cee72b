package shepherd

import (
	"errors"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestSdMessageWatchdogFollowsLivez walks a tree through ready, a stuck
// service and back: systemd is pinged only while Livez would answer 200,
// so its watchdog restarts a process whose tree is stuck.
func TestSdMessageWatchdogFollowsLivez(t *testing.T) {
	running := func(state State) *Node {
		return &Node{Path: "app", Kind: "supervisor", State: StateRunning, Children: []Node{
			{Path: "app/api", Kind: "service", State: StateRunning},
			{Path: "app/jobs", Kind: "supervisor", State: StateRunning, Children: []Node{
				{Path: "app/jobs/x", Kind: "service", State: state, LastErr: errors.New("stop: deadline")},
			}},
		}}
	}
	var st sdState
	for _, c := range []struct {
		snap   *Node
		pinged bool
		want   string
	}{
		{running(StateStarting), true, "STATUS=not ready: app/jobs/x starting\nWATCHDOG=1"},
		{running(StateRunning), false, "READY=1\nSTATUS=ready: 2 services"},
		{running(StateRunning), true, "WATCHDOG=1"},
		{running(StateRunning), false, ""},
		{running(StateStuck), true, "STATUS=not live: app/jobs/x stuck"},
		{running(StateStuck), true, ""},
		{running(StateRestarting), true, "STATUS=not ready: app/jobs/x restarting\nWATCHDOG=1"},
	} {
		if got := sdMessage(&st, c.snap, false, c.pinged, 5*time.Second); got != c.want {
			t.Errorf("sdMessage(%s, pinged %v) = %q; want %q", c.snap.Children[1].Children[0].State, c.pinged, got, c.want)
		}
	}
	// A stop: STOPPING=1 once, with the budget and a second; never READY=1 again.
	if got, want := sdMessage(&st, running(StateRunning), true, false, 5*time.Second), "STOPPING=1\nEXTEND_TIMEOUT_USEC=6000000\nSTATUS=stopping"; got != want {
		t.Errorf("at the signal: %q; want %q", got, want)
	}
	if got := sdMessage(&st, running(StateRunning), true, false, 5*time.Second); got != "" {
		t.Errorf("second signal: %q; want nothing new", got)
	}
}

func TestWatchdogInterval(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	for _, c := range []struct {
		usec, pid string
		want      time.Duration
	}{
		{"", "", 0},
		{"2000000", "", 2 * time.Second},
		{"2000000", me, 2 * time.Second},
		{"2000000", "1", 0}, // meant for another process
		{"junk", "", 0},
		{"-5", "", 0},
	} {
		t.Setenv("WATCHDOG_USEC", c.usec)
		t.Setenv("WATCHDOG_PID", c.pid)
		if got := watchdogInterval(); got != c.want {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: interval %v; want %v", c.usec, c.pid, got, c.want)
		}
	}
}
