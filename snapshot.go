package shepherd

import (
	"errors"
	"strconv"
	"time"
)

// This file owns Snapshot: the states of a service and the tree of Nodes
// read from the views that each supervisor's loop publishes (childView),
// one lock per supervisor, never from the loop's own fields.

// State is where a service is in its life.
type State int

// The states of a service, as Snapshot and Event report them.
const (
	StateIdle       State = iota // added, not started yet
	StateStarting                // Run called, not ready yet
	StateRunning                 // ready
	StateRestarting              // waiting out its backoff before a restart
	StateStopping                // asked to stop, not returned yet
	StateStopped                 // returned
	StateFailed                  // returned with a failure
	StateStuck                   // did not return within the shutdown budget
	StateDraining                // a stopping root supervisor waits out its DrainDelay
)

var stateNames = [...]string{"idle", "starting", "running", "restarting", "stopping", "stopped", "failed", "stuck", "draining"}

// String returns the state's name as the debug page and JSON show it,
// such as "running".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// A Node is one service in a Snapshot of a supervision tree.
type Node struct {
	// Path is the service's path; for the root, the supervisor's.
	Path string
	// Kind is "supervisor", "pool" or "service".
	Kind string
	// State is the service's state; a root supervisor reports its own.
	State State
	// Since is when the service entered State.
	Since time.Time
	// Started is when the service's current or last run started (for a
	// root supervisor, its Run); zero if it never started. Unlike Since,
	// it does not move when the run changes state, and a restart resets it.
	Started time.Time
	// Restarts counts the service's restarts.
	Restarts int
	// LastErr is the service's most recent failure, if any.
	LastErr error
	// Children are the services of a supervisor, in Add order.
	Children []Node
	// Stats are the counters of a pool (Kind "pool"), nil for other
	// services.
	Stats *PoolStats
}

// Snapshot returns the live tree under the supervisor: every service with
// its state, restarts and last failure, descending into nested supervisors.
// It is safe to call at any time from any goroutine, and cheap: it copies a
// few fields per service under the supervisor's lock.
func (s *Supervisor) Snapshot() Node { return s.snapshot(s.name) }

// snapshot reads the tree of a supervisor that is called at until it runs
// and learns its path: its name at the root, its service's path when
// nested.
func (s *Supervisor) snapshot(at string) Node {
	s.mu.Lock()
	n := Node{Path: s.path, Kind: "supervisor", Since: s.since, Started: s.started}
	if n.Path == "" {
		n.Path = at
	}
	switch s.state {
	case supIdle:
		n.State = StateIdle
	case supRunning:
		n.State = StateRunning
	case supStopping:
		n.State = StateStopping
	case supClosed:
		n.State = StateStopped
	case supDone:
		n.State, n.LastErr = StateStopped, s.lastErr
		var stuck *StuckError
		switch {
		case errors.As(s.lastErr, &stuck):
			n.State = StateStuck
		case s.lastErr != nil:
			n.State = StateFailed
		}
	}
	type entry struct {
		node Node
		svc  Service
	}
	entries := make([]entry, len(s.children))
	for i, c := range s.children {
		v := c.view // the loop's published view, never its own fields
		path := v.path
		if path == "" {
			path = joinPath(n.Path, c.name)
		}
		var last error
		if v.lastErr != nil {
			last = attribute(path, v.lastErr)
		}
		entries[i] = entry{Node{Path: path, Kind: "service", State: v.state, Since: v.since, Started: v.started, Restarts: v.restarts, LastErr: last}, c.svc}
	}
	s.mu.Unlock()
	// Nested trees are read after the lock is released: each has its own.
	for _, e := range entries {
		switch svc := e.svc.(type) {
		case *Supervisor:
			sub := svc.snapshot(e.node.Path)
			e.node.Kind, e.node.Children = "supervisor", sub.Children
		case interface{ Stats() PoolStats }:
			st := svc.Stats()
			e.node.Kind, e.node.Stats = "pool", &st
		}
		n.Children = append(n.Children, e.node)
	}
	return n
}
