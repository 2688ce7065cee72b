// Package plain holds go statements of every common form; each is reported.
package plain

import (
	"context"
	"net/http"
)

func work() {}

type reporter struct{}

func (reporter) report(string) {}

func call() {
	go work() // want `go statement starts a goroutine with no owner: nothing waits for it, cancels it or sees its panic; use shepherd Group.Go, a Supervisor service, or a Pool`
}

func closure(ctx context.Context, results chan<- int) {
	go func() { // want `go statement starts a goroutine with no owner`
		select {
		case results <- 1:
		case <-ctx.Done():
		}
	}()
}

func methodValue(r reporter) {
	go r.report("x") // want `go statement starts a goroutine with no owner`

	report := r.report
	go report("y") // want `go statement starts a goroutine with no owner`
}

func funcValue(f func()) {
	go f() // want `go statement starts a goroutine with no owner`
}

func pprofBeside() {
	go http.ListenAndServe(":8081", nil) // want `go statement starts a goroutine with no owner`
}

func perItem(items []string, r reporter) {
	for _, it := range items {
		go r.report(it) // want `go statement starts a goroutine with no owner`
	}
}

// Nested go statements are each reported.
func nested() {
	go func() { // want `go statement starts a goroutine with no owner`
		go work() // want `go statement starts a goroutine with no owner`
	}()
}

var initialised = func() bool {
	go work() // want `go statement starts a goroutine with no owner`
	return true
}()
