package main

import (
	"os"
	"os/exec"
	"regexp"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the example itself when asked to, so the test can run it in
// a child process: its leaky half leaks on purpose, which goleak would
// rightly reject inside the test binary.
func TestMain(m *testing.M) {
	if os.Getenv("RUN_EXAMPLE") == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestLeakGoneWithGroup runs the example: the raw go statement leaks one
// goroutine per timed-out call, all attributed to their owner, and the
// Group version leaks none.
func TestLeakGoneWithGroup(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "RUN_EXAMPLE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("example failed: %v\n%s", err, out)
	}
	leaky := regexp.MustCompile(`raw go statement: 100 calls timed out, (\d+) goroutines left behind`).FindSubmatch(out)
	owned := regexp.MustCompile(`shepherd.Group:   100 calls timed out, 0 goroutines left behind`).Find(out)
	if leaky == nil || string(leaky[1]) == "0" || owned == nil {
		t.Fatalf("want a leak with raw go and none with a Group; got:\n%s", out)
	}
	// Every goroutine left behind is named after the task whose call
	// leaked it, blocked on the send in processLeaky. (In the test binary,
	// package main is named by its import path.)
	owner := regexp.MustCompile(`\n  (\d+) owned by "leaky calls", blocked in \S+\.processLeaky\.func1 \(main\.go:\d+\)\n`).FindSubmatch(out)
	if owner == nil || string(owner[1]) != string(leaky[1]) {
		t.Fatalf("want the %s leaked goroutines attributed to the task \"leaky calls\"; got:\n%s", leaky[1], out)
	}
	// The WaitGroup fan-out of three searches leaks the two senders that
	// lost and the goroutine waiting to close the channel, every time.
	if !regexp.MustCompile(`raw go \+ WaitGroup: 100 fan-outs failed, 300 goroutines left behind\n`).Match(out) ||
		!regexp.MustCompile(`shepherd.Group:     100 fan-outs failed, 0 goroutines left behind\n`).Match(out) {
		t.Fatalf("want 3 goroutines leaked per WaitGroup fan-out and none with a Group; got:\n%s", out)
	}
}
