// Package optout exercises the //nakedgo:ok directive.
package optout

func work() {}

func trailing() {
	go work() //nakedgo:ok flushes a log buffer the process is about to lose anyway
}

func above() {
	//nakedgo:ok the runtime owns this: it is the signal.Notify forwarder
	go work()
}

// A trailing directive covers its own line only: the next go statement is
// still reported.
func trailingThenNext() {
	go work() //nakedgo:ok reason one
	go work() // want `go statement starts a goroutine with no owner`
}

// Two statements on one line share a directive.
func sameLine() {
	go func() { go work() }() //nakedgo:ok both are fire-and-forget metrics pings
}

// A directive covers every report about its go statement, including a
// forgotten sender in the goroutine.
func coversLeak(done <-chan struct{}) int {
	ch := make(chan int)
	//nakedgo:ok the analysis is wrong here, and this reason says why
	go func() {
		ch <- 1
	}()
	select {
	case v := <-ch:
		return v
	case <-done:
		return 0
	}
}

func missingReason() {
	// want +1 `//nakedgo:ok needs a reason: write //nakedgo:ok <why this goroutine needs no owner>; without one it silences nothing`
	//nakedgo:ok
	go work() // want `go statement starts a goroutine with no owner`
}

func missingReasonTrailing() {
	// want +1 `go statement starts a goroutine with no owner` `//nakedgo:ok needs a reason`
	go work() //nakedgo:ok
}

func unused() {
	// want +1 `//nakedgo:ok covers no go statement: put it on the go statement's line or the line directly above, or delete it`
	//nakedgo:ok this goroutine was given an owner since

	work()
}

// Only the exact directive counts: these are ordinary comments.
func lookalikes() {
	// nakedgo:ok with a space is prose
	go work() // want `go statement starts a goroutine with no owner`
	//nakedgo:okay is another word
	go work() // want `go statement starts a goroutine with no owner`
	/* nakedgo:ok in a block comment */ go work() // want `go statement starts a goroutine with no owner`
}

// A directive two lines above covers nothing.
func tooFar() {
	// want +1 `//nakedgo:ok covers no go statement`
	//nakedgo:ok too far away

	go work() // want `go statement starts a goroutine with no owner`
}
