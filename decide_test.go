package shepherd

import (
	"errors"
	"fmt"
	"testing"
)

// The decision rules, one table per strategy: each row is one exit and
// what must become of the service.

var (
	errFailed     = errors.New("failed")
	errDoneForNow = fmt.Errorf("finished: %w", ErrDoNotRestart)
	errStopAll    = fmt.Errorf("all done: %w", ErrStopTree)
)

type decideCase struct {
	name     string
	err      error
	policy   RestartPolicy
	stopping bool
	limitHit bool
	want     verdict
}

// commonCases hold for every strategy; restartScope is the strategy's.
func commonCases(scope restartScope) []decideCase {
	return []decideCase{
		{"Never, nil", nil, Never, false, false, verdict{kind: finish}},
		{"Never, failure", errFailed, Never, false, false, verdict{kind: fail, failed: true}},
		{"Never, ErrDoNotRestart", errDoneForNow, Never, false, false, verdict{kind: finish}},
		{"Never, ErrStopTree", errStopAll, Never, false, false, verdict{kind: stopTree}},
		{"OnFailure, nil", nil, OnFailure, false, false, verdict{kind: finish}},
		{"OnFailure, failure", errFailed, OnFailure, false, false, verdict{kind: restart, failed: true, scope: scope}},
		{"OnFailure, ErrDoNotRestart", errDoneForNow, OnFailure, false, false, verdict{kind: finish}},
		{"OnFailure, ErrStopTree", errStopAll, OnFailure, false, false, verdict{kind: stopTree}},
		{"OnFailure, failure while stopping", errFailed, OnFailure, true, false, verdict{kind: hold, failed: true}},
		{"OnFailure, failure past the limit", errFailed, OnFailure, false, true, verdict{kind: escalate, failed: true}},
		{"Always, nil", nil, Always, false, false, verdict{kind: restart, scope: scope}},
		{"Always, failure", errFailed, Always, false, false, verdict{kind: restart, failed: true, scope: scope}},
		{"Always, nil while stopping", nil, Always, true, false, verdict{kind: hold}},
		{"Always, nil past the limit", nil, Always, false, true, verdict{kind: escalate}},
		{"Always, ErrDoNotRestart", errDoneForNow, Always, false, false, verdict{kind: finish}},
		{"Always, ErrStopTree", errStopAll, Always, false, false, verdict{kind: stopTree}},
		{"Never, failure while stopping", errFailed, Never, true, false, verdict{kind: fail, failed: true}},
		{"Never, failure past the limit", errFailed, Never, false, true, verdict{kind: fail, failed: true}},
	}
}

func runDecide(t *testing.T, strategy Strategy, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		got := decide(exitFacts{err: tc.err, policy: tc.policy, strategy: strategy, stopping: tc.stopping, limitHit: tc.limitHit})
		if got != tc.want {
			t.Errorf("%v, %s: decide = %+v; want %+v", strategy, tc.name, got, tc.want)
		}
	}
}

func TestDecideOneForOne(t *testing.T)  { runDecide(t, OneForOne, commonCases(scopeOne)) }
func TestDecideOneForAll(t *testing.T)  { runDecide(t, OneForAll, commonCases(scopeAll)) }
func TestDecideRestForOne(t *testing.T) { runDecide(t, RestForOne, commonCases(scopeRest)) }

// The services a restart takes with it, one table per strategy: a set of
// five services, the third of which (index 2) exited, and for each
// service its policy and where its run stands once the others were
// stopped. want is what becomes of each: "-" untouched (outside the
// restart), or its fate.
type setCase struct {
	name     string
	policies [5]RestartPolicy
	states   [5]runState
	want     [5]string
}

func runRestartSet(t *testing.T, strategy Strategy, cases []setCase) {
	t.Helper()
	names := map[siblingFate]string{rejoin: "rejoin", drop: "drop", judge: "judge"}
	for _, tc := range cases {
		lo, hi := restartSpan(scopeFor(strategy), 5, 2)
		var got [5]string
		for i := range got {
			got[i] = "-"
			if i >= lo && i < hi {
				got[i] = names[fate(i == 2, tc.policies[i], tc.states[i])]
			}
		}
		if got != tc.want {
			t.Errorf("%v, %s: restart set = %v; want %v", strategy, tc.name, got, tc.want)
		}
	}
}

var (
	allAlways = [5]RestartPolicy{Always, Always, Always, Always, Always}
	mixed     = [5]RestartPolicy{Never, OnFailure, OnFailure, Never, Always}
	allStop   = [5]runState{stoppedNow, stoppedNow, notRunning, stoppedNow, stoppedNow}
	variety   = [5]runState{returned, notRunning, notRunning, stoppedNow, returned}
)

func TestRestartSetOneForOne(t *testing.T) {
	runRestartSet(t, OneForOne, []setCase{
		{"all Always, all stopped", allAlways, allStop, [5]string{"-", "-", "rejoin", "-", "-"}},
		{"mixed policies", mixed, variety, [5]string{"-", "-", "rejoin", "-", "-"}},
		{"the cause is Never", [5]RestartPolicy{Never, Never, Never, Never, Never}, allStop, [5]string{"-", "-", "rejoin", "-", "-"}},
	})
}

func TestRestartSetOneForAll(t *testing.T) {
	runRestartSet(t, OneForAll, []setCase{
		{"all Always, all stopped", allAlways, allStop, [5]string{"rejoin", "rejoin", "rejoin", "rejoin", "rejoin"}},
		{"mixed policies", mixed, variety, [5]string{"judge", "rejoin", "rejoin", "drop", "judge"}},
		{"Never siblings", [5]RestartPolicy{Never, Never, Always, Never, Never},
			[5]runState{notRunning, stillLive, notRunning, stoppedNow, returned}, [5]string{"drop", "rejoin", "rejoin", "drop", "judge"}},
	})
}

func TestRestartSetRestForOne(t *testing.T) {
	runRestartSet(t, RestForOne, []setCase{
		{"all Always, all stopped", allAlways, allStop, [5]string{"-", "-", "rejoin", "rejoin", "rejoin"}},
		{"mixed policies", mixed, variety, [5]string{"-", "-", "rejoin", "drop", "judge"}},
		{"Never siblings", [5]RestartPolicy{Never, Never, Always, Never, Never},
			[5]runState{notRunning, stillLive, notRunning, stillLive, notRunning}, [5]string{"-", "-", "rejoin", "rejoin", "drop"}},
	})
}
