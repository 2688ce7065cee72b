package shepherd_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
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
