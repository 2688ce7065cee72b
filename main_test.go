package shepherd_test

import (
	"log/slog"
	"os"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(leakChildEnv) == "1" {
		// A child process of TestProvenLeaks: it leaks on purpose, and
		// its parent checks what it reports.
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}

// mustPanic runs fn and returns the message it panicked with, failing the
// test if it did not panic.
func mustPanic(t *testing.T, fn func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("no panic")
		}
		msg, _ = r.(string)
		if err, ok := r.(error); ok {
			msg = err.Error()
		}
	}()
	fn()
	return ""
}

// eventually polls cond until it holds, failing the test after a bound
// generous enough for a loaded CI machine.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		runtime.Gosched()
	}
}

var discard = slog.New(slog.DiscardHandler)
