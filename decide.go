package shepherd

import "errors"

// This file owns the supervisor's decision rules: what happens when a run
// of a service ended on its own, and which services a restart takes with
// it (restartSpan, fate). decide is a plain function of what the
// loop knows at that moment; it starts nothing, waits for nothing and
// reads no clock, so each rule is tested by a table (decide_test.go). The
// loop (exited, in child.go) carries the verdict out.

// exitFacts is what the loop knows when a run ended on its own.
type exitFacts struct {
	err      error         // what Run returned
	policy   RestartPolicy // the service's
	strategy Strategy      // the supervisor's
	stopping bool          // the supervisor was asked to stop
	limitHit bool          // one more restart would pass MaxRestarts
}

// A verdictKind is what becomes of the service.
type verdictKind int

const (
	finish   verdictKind = iota // done for good, not a failure
	stopTree                    // it returned ErrStopTree: the supervisor stops, with that as its result
	fail                        // a failure its policy does not restart: the supervisor fails
	hold                        // it would be restarted, but the supervisor is stopping
	escalate                    // it would be restarted, but past MaxRestarts: the supervisor fails
	restart                     // started again, with the services of scope
)

// A restartScope is which services a restart starts again: OTP's
// strategies.
type restartScope int

const (
	scopeOne  restartScope = iota // the service alone (OneForOne)
	scopeAll                      // every service (OneForAll)
	scopeRest                     // the service and those added after it (RestForOne)
)

// A verdict is decide's answer.
type verdict struct {
	kind verdictKind
	// failed says the exit is a failure, reported as one (an event of
	// StateFailed) even when a restart follows.
	failed bool
	scope  restartScope // for restart
}

// decide returns what becomes of a service whose run ended on its own.
// It asks errors.Is once per sentinel: it runs on every restart.
func decide(f exitFacts) verdict {
	if f.err != nil && errors.Is(f.err, ErrStopTree) {
		return verdict{kind: stopTree}
	}
	done := f.err != nil && errors.Is(f.err, ErrDoNotRestart)
	failure := f.err != nil && !done
	switch {
	case done || f.policy == Never || (f.policy == OnFailure && f.err == nil):
		if failure {
			return verdict{kind: fail, failed: true}
		}
		return verdict{kind: finish}
	case f.stopping:
		return verdict{kind: hold, failed: failure}
	case f.limitHit:
		return verdict{kind: escalate, failed: failure}
	}
	return verdict{kind: restart, failed: failure, scope: scopeFor(f.strategy)}
}

// restarts reports whether policy restarts a service after a run that
// returned err.
func restarts(policy RestartPolicy, err error) bool {
	switch {
	case errors.Is(err, ErrDoNotRestart) || errors.Is(err, ErrStopTree):
		return false
	case policy == Always:
		return true
	}
	return policy == OnFailure && err != nil
}

func scopeFor(s Strategy) restartScope {
	switch s {
	case OneForAll:
		return scopeAll
	case RestForOne:
		return scopeRest
	}
	return scopeOne
}

// restartSpan returns which of n services, in Add order, a restart of the
// one at i takes with it, by scope: those at [lo, hi).
func restartSpan(scope restartScope, n, i int) (lo, hi int) {
	switch scope {
	case scopeAll:
		return 0, n
	case scopeRest:
		return i, n
	}
	return i, i + 1
}

// A runState is where a service of a restart's set stands once the
// restart has stopped the others.
type runState int

const (
	notRunning runState = iota // no run: finished, or not started yet
	stoppedNow                 // stopped for the restart (or stuck in that stop)
	returned                   // its run returned on its own before it was asked to stop
	stillLive                  // running, not asked to stop
)

// A siblingFate is what a restart does with one service of its set.
type siblingFate int

const (
	rejoin siblingFate = iota // started again with the set
	drop                      // stopped with the set, never started again
	judge                     // its own exit is decided first, by its own policy
)

// fate returns what a restart does with a service of its set; cause is
// the service whose exit caused the restart. A sibling whose run returned
// on its own is judged by its own policy, so that its failure is not lost
// in the restart and a finished service is not brought back. A Never
// service runs once, as OTP's temporary children do: stopped with the
// others, never started again.
func fate(cause bool, policy RestartPolicy, st runState) siblingFate {
	switch {
	case cause:
		return rejoin
	case st == returned:
		return judge
	case policy == Never && (st == notRunning || st == stoppedNow):
		return drop
	}
	return rejoin
}
