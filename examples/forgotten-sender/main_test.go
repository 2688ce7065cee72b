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
}
