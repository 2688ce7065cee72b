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
