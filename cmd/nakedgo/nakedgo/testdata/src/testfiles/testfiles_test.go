package testfiles

import "testing"

func TestStart(t *testing.T) {
	done := make(chan struct{})
	go close(done)
	<-done
}
