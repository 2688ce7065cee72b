// Package forgotten holds the forgotten sender, as in the seed article, and
// its variants that nakedgo reports with a fix.
package forgotten

import (
	"context"
	"errors"
	"time"
)

type result struct {
	record string
	err    error
}

func search(string) (string, error) { return "some value", nil }

// process is the seed article's listing 4: on timeout the select returns and
// the goroutine blocks on its send forever.
func process(ctx context.Context, term string) error {
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()

	ch := make(chan result)

	go func() { // want `go statement starts a goroutine with no owner`
		record, err := search(term)
		ch <- result{record, err} // want `forgotten sender: this send on unbuffered channel ch blocks forever once the select receiving from it takes another case; give the channel a buffer of 1 or use a shepherd Group`
	}()

	select {
	case <-ctx.Done():
		return errors.New("search canceled")
	case result := <-ch:
		return result.err
	}
}

// An explicit size of zero is just as unbuffered.
func zeroSized(term string) (string, error) {
	ch := make(chan result, 0)
	go func() { // want `go statement starts a goroutine with no owner`
		r, err := search(term)
		ch <- result{r, err} // want `forgotten sender: this send on unbuffered channel ch`
	}()
	select {
	case r := <-ch:
		return r.record, r.err
	case <-time.After(time.Second):
		return "", errors.New("timed out")
	}
}

// A default case leaves at once if the sender is not ready.
func polled() bool {
	var done chan struct{}
	done = make(chan struct{})
	go func() { // want `go statement starts a goroutine with no owner`
		defer close(done)
		done <- struct{}{} // want `forgotten sender: this send on unbuffered channel done`
	}()
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// A fresh channel per iteration is still one channel, one send, one select.
func each(ctx context.Context, terms []string) {
	for _, term := range terms {
		ch := make(chan string)
		go func() { // want `go statement starts a goroutine with no owner`
			r, _ := search(term)
			ch <- r // want `forgotten sender: this send on unbuffered channel ch`
		}()
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// The function holding the channel may itself be a literal.
var handler = func(ctx context.Context) {
	errc := make(chan error)
	go func() { // want `go statement starts a goroutine with no owner`
		_, err := search("x")
		errc <- err // want `forgotten sender: this send on unbuffered channel errc`
	}()
	select {
	case <-errc:
	case <-ctx.Done():
	}
}

// A var declaration with a value, and a receive with its ok flag.
func declared(stop <-chan struct{}) (int, bool) {
	var ch = make(chan int)
	go func() { // want `go statement starts a goroutine with no owner`
		ch <- len("x") // want `forgotten sender: this send on unbuffered channel ch`
	}()
	select {
	case v, ok := <-ch:
		return v, ok
	case <-stop:
		return 0, false
	}
}
