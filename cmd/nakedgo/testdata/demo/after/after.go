// Package after is package before with every goroutine owned by a shepherd
// Group; nakedgo has nothing to say about it.
package after

import (
	"context"
	"time"

	"github.com/shepherd-go/shepherd"
)

func search(ctx context.Context, term string) (string, error) {
	select {
	case <-time.After(200 * time.Millisecond):
		return "record for " + term, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Process looks term up and gives up after 100ms. The timeout cancels the
// search, and Process returns only once the search has returned.
func Process(ctx context.Context, term string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()

	var record string
	g := shepherd.NewGroup(ctx)
	g.Go("search", func(ctx context.Context) error {
		var err error
		record, err = search(ctx, term)
		return err
	})
	if err := g.Wait(); err != nil {
		return "", err
	}
	return record, nil
}

// NotifyAll tells every subscriber, at most 8 at a time, and returns the
// first failure along with any others.
func NotifyAll(ctx context.Context, subscribers []string, notify func(context.Context, string) error) error {
	g := shepherd.NewGroup(ctx, shepherd.Limit(8))
	for _, s := range subscribers {
		g.Go("notify "+s, func(ctx context.Context) error { return notify(ctx, s) })
	}
	return g.Wait()
}
