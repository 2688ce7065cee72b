// Package before holds two common ways to start a goroutine that nobody
// owns; the README shows nakedgo's report on it.
package before

import (
	"context"
	"errors"
	"time"
)

type result struct {
	record string
	err    error
}

func search(ctx context.Context, term string) (string, error) {
	select {
	case <-time.After(200 * time.Millisecond):
		return "record for " + term, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Process looks term up and gives up after 100ms, leaving the search
// goroutine blocked on its send.
func Process(term string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	ch := make(chan result)
	go func() {
		record, err := search(ctx, term)
		ch <- result{record, err}
	}()

	select {
	case <-ctx.Done():
		return "", errors.New("search canceled")
	case r := <-ch:
		return r.record, r.err
	}
}

// NotifyAll tells every subscriber, waits for none of them, and never
// learns whether a notification failed.
func NotifyAll(subscribers []string, notify func(string) error) {
	for _, s := range subscribers {
		go notify(s)
	}
}
