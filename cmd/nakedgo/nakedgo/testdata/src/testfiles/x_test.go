package testfiles_test

import "testing"

// Skipped files are skipped whole: this malformed directive is not reported.
//nakedgo:ok

func TestX(t *testing.T) {
	done := make(chan struct{})
	go close(done)
	<-done
}
