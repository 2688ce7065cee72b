package shepherd_test

import "testing"

// The library's external tests are exempt with it.
func TestGo(t *testing.T) {
	done := make(chan struct{})
	go close(done)
	<-done
}
