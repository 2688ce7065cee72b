// Package notleak holds go statements that are reported as unowned but are
// not forgotten senders: the fixed version, and the shapes the leak check
// gives up on rather than guess.
package notleak

import (
	"context"
	"time"
)

func search() int { return 1 }

func sink(chan int) {}

// fixed is the seed article's fix: the send always has room.
func fixed(ctx context.Context) int {
	ch := make(chan int, 1)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		return 0
	}
}

// A buffer whose size is not a constant is not known to be zero.
func sized(ctx context.Context, n int) {
	ch := make(chan int, n)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// A plain receive waits for the sender whatever happens.
func plainReceive() int {
	ch := make(chan int)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	return <-ch
}

// A select with a single case is a plain receive.
func oneCase() int {
	ch := make(chan int)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	select {
	case v := <-ch:
		return v
	}
}

// A sender that selects has its own way out.
func senderSelects(ctx context.Context) {
	ch := make(chan int)
	go func() { // want `go statement starts a goroutine with no owner`
		select {
		case ch <- search():
		case <-ctx.Done():
		}
	}()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// The channel escapes: someone else may drain it.
func escapes(ctx context.Context) {
	ch := make(chan int)
	sink(ch)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// Passed as an argument rather than captured: not followed (yet).
func argument(ctx context.Context) {
	ch := make(chan int)
	go func(out chan<- int) { // want `go statement starts a goroutine with no owner`
		out <- search()
	}(ch)
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// Two sends: one slot of buffer would not save the second.
func twoSends(ctx context.Context) {
	ch := make(chan int)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
		ch <- search()
	}()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// A send in a loop is many sends.
func sendLoop(ctx context.Context) {
	ch := make(chan int)
	go func() { // want `go statement starts a goroutine with no owner`
		for range 3 {
			ch <- search()
		}
	}()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// Many goroutines on one channel: one slot is not enough.
func manySenders(ctx context.Context) {
	ch := make(chan int)
	for range 3 {
		go func() { // want `go statement starts a goroutine with no owner`
			ch <- search()
		}()
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// A receiver that loops back may still receive; whether it does is beyond
// a cheap check.
func receiveLoop(tick <-chan time.Time) int {
	ch := make(chan int)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	for {
		select {
		case v := <-ch:
			return v
		case <-tick:
		}
	}
}

// The channel belongs to the caller, who may receive from it elsewhere.
func parameter(ctx context.Context, ch chan int) {
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// A channel that is assigned twice is not followed.
func reassigned(ctx context.Context) {
	ch := make(chan int)
	ch = make(chan int)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// A method value started by go is not a literal: only the plain report.
type worker struct{ out chan int }

func (w worker) run() { w.out <- search() }

func methodValue(ctx context.Context) {
	w := worker{out: make(chan int)}
	go w.run() // want `go statement starts a goroutine with no owner`
	select {
	case <-w.out:
	case <-ctx.Done():
	}
}

// Both cases receive: the receiver cannot leave without the value.
func bothCasesReceive() int {
	ch := make(chan int)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	select {
	case v := <-ch:
		return v
	case v, ok := <-ch:
		if ok {
			return v
		}
		return 0
	}
}

// make of a type parameter may or may not be buffered; it is left alone.
func generic[C ~chan int](ctx context.Context) {
	ch := make(C)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// The receiving select runs in another goroutine, on its own schedule.
func receiverElsewhere(ctx context.Context) {
	ch := make(chan int)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- search()
	}()
	go func() { // want `go statement starts a goroutine with no owner`
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}()
}
