// Package fixture has one bare go statement and one forgotten sender, for
// the test that runs nakedgo inside a custom golangci-lint.
package fixture

import "time"

// Start runs f on a goroutine nobody owns.
func Start(f func()) {
	go f()
}

// First waits for compute at most timeout; when it gives up, the sender
// blocks forever.
func First(timeout time.Duration) (int, bool) {
	ch := make(chan int)
	go func() {
		ch <- compute()
	}()
	select {
	case v := <-ch:
		return v, true
	case <-time.After(timeout):
		return 0, false
	}
}

func compute() int { return 42 }
