// Command forgotten-sender shows the classic goroutine leak and the same
// code written with a shepherd Group.
//
// process asks search for a record with a 100 ms deadline; search takes
// 200 ms. In the leaky version the goroutine running search blocks forever
// on an unbuffered send once process has given up waiting: one goroutine
// lost per call. With a Group, the search is a task owned by process: the
// deadline cancels it and process waits for it, so nothing is left behind.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shepherd-go/shepherd"
)

const (
	calls         = 100
	searchTime    = 200 * time.Millisecond
	searchTimeout = 100 * time.Millisecond
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	failed, leaked := measure(processLeaky)
	fmt.Fprintf(w, "raw go statement: %d calls timed out, %d goroutines left behind\n", failed, leaked)
	failed, owned := measure(processOwned)
	fmt.Fprintf(w, "shepherd.Group:   %d calls timed out, %d goroutines left behind\n", failed, owned)
	if owned != 0 {
		return fmt.Errorf("the Group version left %d goroutines behind", owned)
	}
	return nil
}

// measure runs process concurrently calls times and returns how many calls
// failed and how many more goroutines exist once every call returned and
// every search finished.
func measure(process func(term string) (string, error)) (failed, leaked int) {
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	var errs atomic.Int32
	for range calls {
		wg.Go(func() {
			if _, err := process("gopher"); err != nil {
				errs.Add(1)
			}
		})
	}
	wg.Wait()
	// Give every search time to finish; a leaked sender blocks after it.
	time.Sleep(2 * searchTime)
	return int(errs.Load()), runtime.NumGoroutine() - before
}

// search stands in for a slow database query.
func search(ctx context.Context, term string) (string, error) {
	select {
	case <-time.After(searchTime):
		return "record for " + term, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

type result struct {
	record string
	err    error
}

// processLeaky is the seed's bug: when the deadline wins the select,
// nobody receives from ch and the sender blocks forever.
func processLeaky(term string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), searchTimeout)
	defer cancel()
	ch := make(chan result)
	go func() {
		record, err := search(context.Background(), term)
		ch <- result{record, err} // blocks forever once processLeaky returned
	}()
	select {
	case <-ctx.Done():
		return "", errors.New("search timed out")
	case r := <-ch:
		return r.record, r.err
	}
}

// processOwned runs the search as a task of a Group: the deadline cancels
// it, and Wait does not return until it has.
func processOwned(term string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), searchTimeout)
	defer cancel()
	g := shepherd.NewGroup(ctx)
	var record string
	g.Go("search", func(ctx context.Context) (err error) {
		record, err = search(ctx, term)
		return err
	})
	if err := g.Wait(); err != nil {
		return "", fmt.Errorf("search timed out: %w", err)
	}
	return record, nil
}
