package plain

import "testing"

// Test files are analyzed like any other: the driver, not the analyzer,
// decides whether they are loaded (nakedgo -test=false leaves them out).
func TestWork(t *testing.T) {
	done := make(chan struct{})
	go func() { // want `go statement starts a goroutine with no owner`
		work()
		close(done)
	}()
	<-done
}
