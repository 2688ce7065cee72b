package shepherd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/multierr"

	"github.com/shepherd-go/shepherd/goroutines"
)

// This file owns the stuck report: StuckError, the goroutine stacks it
// carries, the look for goroutines that services left behind, and the
// bookkeeping that makes a stuck service said once and never forgotten.

// A StuckError reports the services that did not return within the
// shutdown budget, with the stacks of every goroutine each one owns, so the
// operator sees which goroutine refused to stop and where it is blocked.
//
// The goroutines are found through the "shepherd.path" pprof label, which
// also marks goroutines a service started with a plain go statement, and
// the "shepherd.tree" label, which keeps another tree's goroutines out.
type StuckError struct {
	// Budget is the shutdown budget that ran out.
	Budget time.Duration
	// Tasks lists the stuck services in the order they were stopped.
	Tasks []StuckTask
}

// A StuckTask is one service that did not stop.
type StuckTask struct {
	// Path is the service's path.
	Path string
	// Goroutines are the goroutines owned by the service or by tasks below
	// it when the budget ran out.
	Goroutines []goroutines.Stack
}

// Error names the stuck services and, for each, the innermost frame of its
// own code where one of its goroutines is blocked. Report has every stack.
func (e *StuckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "shepherd: %d %s did not stop within the %v shutdown budget:", len(e.Tasks), plural(len(e.Tasks), "service", "services"), e.Budget)
	for i, t := range e.Tasks {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %q", t.Path)
		if f, ok := blockedAt(t.Goroutines); ok {
			fmt.Fprintf(&b, " (blocked in %s at %s:%d)", f.Function, f.File, f.Line)
		}
	}
	return b.String()
}

// Report returns the full stuck report: each stuck service followed by the
// stacks of its goroutines.
func (e *StuckError) Report() string {
	var b strings.Builder
	if e.Budget > 0 {
		fmt.Fprintf(&b, "%d %s did not stop within the %v shutdown budget\n", len(e.Tasks), plural(len(e.Tasks), "service", "services"), e.Budget)
	} else {
		fmt.Fprintf(&b, "%d %s still running\n", len(e.Tasks), plural(len(e.Tasks), "service", "services"))
	}
	for _, t := range e.Tasks {
		fmt.Fprintf(&b, "\n%s:\n", t.Path)
		if len(t.Goroutines) == 0 {
			b.WriteString("  (no goroutine carries its label any more)\n")
		}
		writeStacks(&b, t.Goroutines)
	}
	return b.String()
}

func writeStacks(b *strings.Builder, gs []goroutines.Stack) {
	for _, g := range gs {
		fmt.Fprintf(b, "  %d %s owned by %s%s\n", g.Count, plural(g.Count, "goroutine", "goroutines"), g.Path, leakNote(g))
		for _, f := range g.Frames {
			fmt.Fprintf(b, "    %s\n        %s:%d\n", f.Function, f.File, f.Line)
		}
	}
}

// blockedAt returns the innermost frame outside the runtime and the
// standard library's synchronisation, which is where a reader looks first.
func blockedAt(gs []goroutines.Stack) (goroutines.Frame, bool) {
	for _, g := range gs {
		if f, ok := g.WaitsIn(); ok {
			return f, true
		}
	}
	return goroutines.Frame{}, false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func newStuckError(budget time.Duration, tree string, paths []string) *StuckError {
	all := goroutines.All()
	markLeaked(all)
	e := &StuckError{Budget: budget}
	for _, p := range paths {
		e.Tasks = append(e.Tasks, StuckTask{Path: p, Goroutines: goroutinesUnder(all, tree, p)})
	}
	return e
}

// goroutinesUnder returns the goroutine stacks of tree owned by path or by
// a path below it.
func goroutinesUnder(all []goroutines.Stack, tree, path string) []goroutines.Stack {
	var out []goroutines.Stack
	for _, g := range all {
		if g.Tree == tree && (g.Path == path || strings.HasPrefix(g.Path, path+"/")) {
			out = append(out, g)
		}
	}
	return out
}

// lingering waits, until the end of the shutdown budget, for the goroutines
// that services started and left behind when they returned: handlers of a
// server that was closed under them, or goroutines started with a plain go
// statement. Their pprof labels say whose they are. It returns a
// *StuckError for the services whose goroutines are still there, leaving
// out those already reported stuck.
func (s *Supervisor) lingering(result error, since time.Time) error {
	var named []string
	for _, e := range allErrors(result) {
		if se, ok := e.(*StuckError); ok {
			for _, t := range se.Tasks {
				named = append(named, t.Path)
			}
		}
	}
	under := func(path, root string) bool { return path == root || strings.HasPrefix(path, root+"/") }
	// Goroutines on their way out go within microseconds; the rest are
	// looked at less and less often, as each look stops the world.
	pause := time.Millisecond
	for {
		left := map[string][]goroutines.Stack{}
		var order []string
	next:
		for _, g := range goroutines.All() {
			if g.Tree != s.tree || g.Path == s.path || !under(g.Path, s.path) {
				continue // another tree's, not below this supervisor, or its own goroutine
			}
			for _, n := range named {
				if under(g.Path, n) {
					continue next
				}
			}
			// Attributed to the service directly below this supervisor.
			svc := s.path + "/" + strings.SplitN(strings.TrimPrefix(g.Path, s.path+"/"), "/", 2)[0]
			if left[svc] == nil {
				order = append(order, svc)
			}
			left[svc] = append(left[svc], g)
		}
		if len(left) == 0 {
			return nil
		}
		deadline := s.budgetFrom(since)
		if !time.Now().Before(deadline) {
			se := &StuckError{Budget: max(0, deadline.Sub(since)).Round(time.Millisecond)}
			markLeakedIn(left)
			for _, p := range order {
				se.Tasks = append(se.Tasks, StuckTask{Path: p, Goroutines: left[p]})
				for _, c := range s.snapshotChildren() {
					if c.path == p {
						s.setState(c, StateStuck, se)
					}
				}
				s.ev.emit(s.base, Event{State: StateStuck, Path: p, Err: se})
			}
			return se
		}
		t := time.NewTimer(min(pause, time.Until(deadline)))
		<-t.C
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// sayOnce settles the services whose Stop ran out of time although their
// Run returned: one named stuck is reported by its *StuckError alone (its
// Stop's timeout is the same story), the others are reported stopped now.
func (s *Supervisor) sayOnce(result error) error {
	unsure := s.unsure
	s.unsure = nil
	if len(unsure) == 0 {
		return result
	}
	stuck := map[string]bool{}
	for _, e := range allErrors(result) {
		if se, ok := e.(*StuckError); ok {
			for _, t := range se.Tasks {
				stuck[t.Path] = true
			}
		}
	}
	for _, c := range unsure {
		if !stuck[c.path] {
			s.ev.emit(c.base, Event{State: StateStopped, Requested: true, Path: c.path})
		}
	}
	if len(stuck) == 0 {
		return result
	}
	var out error
	for _, e := range multierr.Errors(result) {
		if te, ok := e.(*TaskError); ok && stuck[te.Path] && errors.Is(te.Err, context.DeadlineExceeded) && strings.HasPrefix(te.Err.Error(), "stop: ") {
			continue
		}
		out = multierr.Append(out, e)
	}
	return out
}

// without returns err less the error early, when err is early or combines
// it with others.
func without(err, early error) error {
	if err == early {
		return nil
	}
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		var rest error
		for _, e := range m.Unwrap() {
			if e != early {
				rest = multierr.Append(rest, e)
			}
		}
		return rest
	}
	return err
}

// keepStuck remembers the stuck reports inside err, the exit of a run that
// a restart is about to go past.
func (s *Supervisor) keepStuck(err error) {
	if !holdsStuck(err) {
		return // the common case, without building the list
	}
	for _, e := range allErrors(err) {
		if se, ok := e.(*StuckError); ok {
			s.abandoned = append(s.abandoned, se)
		}
	}
}

// holdsStuck reports whether err's tree holds a *StuckError. Unlike
// errors.As it needs no target on the heap: a restart that left nothing
// stuck allocates nothing here.
func holdsStuck(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *StuckError:
			return true
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				if holdsStuck(x) {
					return true
				}
			}
			return false
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return false
		}
	}
	return false
}

// withAbandoned adds to err the stuck reports of earlier runs it does not
// already hold.
func (s *Supervisor) withAbandoned(err error) error {
	held := allErrors(err)
	for _, se := range s.abandoned {
		found := false
		for _, e := range held {
			if e == error(se) {
				found = true
				break
			}
		}
		if !found {
			err = multierr.Append(err, se)
		}
	}
	return err
}

// allErrors returns every error in err's tree.
func allErrors(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			out = append(out, allErrors(x)...)
		}
	case interface{ Unwrap() error }:
		out = append(out, allErrors(e.Unwrap())...)
	}
	return out
}
