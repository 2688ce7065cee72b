// Command forgotten-sender shows the classic goroutine leak and the same
// code written with a shepherd Group.
//
// process asks search for a record with a 100 ms deadline; search takes
// a second (far past the deadline, so that the deadline wins even on a
// loaded machine). In the leaky version the goroutine running search blocks forever
// on an unbuffered send once process has given up waiting: one goroutine
// lost per call. With a Group, the search is a task owned by process: the
// deadline cancels it and process waits for it, so nothing is left behind.
//
// The calls themselves run as tasks of a Group, so the leaked goroutines,
// started with a plain go statement, inherit the calling task's pprof
// label: the program names their owner and the line where they are stuck,
// as the debug page (examples/leak-hunt) and stuck reports do.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shepherd-go/shepherd"

	"github.com/shepherd-go/shepherd/goroutines"
)

const (
	calls         = 100
	searchTime    = time.Second
	searchTimeout = 100 * time.Millisecond
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	failed, leaked := measure("leaky calls", processLeaky)
	_, _ = fmt.Fprintf(w, "raw go statement: %d calls timed out, %d goroutines left behind\n", failed, leaked)
	owners(w, "leaky calls")
	failed, owned := measure("owned calls", processOwned)
	_, _ = fmt.Fprintf(w, "shepherd.Group:   %d calls timed out, %d goroutines left behind\n", failed, owned)
	owners(w, "owned calls")
	if owned != 0 {
		return fmt.Errorf("the Group version left %d goroutines behind", owned)
	}

	terms := []string{"gopher", "gerbil", "gecko"}
	failed, leaked = measure("leaky fan-outs", func(string) (string, error) { return "", searchAllLeaky(terms) })
	_, _ = fmt.Fprintf(w, "raw go + WaitGroup: %d fan-outs failed, %d goroutines left behind\n", failed, leaked)
	owners(w, "leaky fan-outs")
	failed, owned = measure("owned fan-outs", func(string) (string, error) { return "", searchAllOwned(terms) })
	_, _ = fmt.Fprintf(w, "shepherd.Group:     %d fan-outs failed, %d goroutines left behind\n", failed, owned)
	if owned != 0 {
		return fmt.Errorf("the Group fan-out left %d goroutines behind", owned)
	}
	return nil
}

// measure runs process concurrently calls times, each call a task called
// name, and returns how many calls failed and how many more goroutines
// exist once every call returned and every search finished.
func measure(name string, process func(term string) (string, error)) (failed, leaked int) {
	before := runtime.NumGoroutine()
	var errs atomic.Int32
	g := shepherd.NewGroup(context.Background())
	for range calls {
		g.Go(name, func(ctx context.Context) error {
			if _, err := process("gopher"); err != nil {
				errs.Add(1)
			}
			return nil
		})
	}
	_ = g.Wait()
	return int(errs.Load()), settled() - before
}

// searching counts the searches under way: the leaky versions return
// before theirs finish.
var searching atomic.Int32

// settled waits until every search has finished and the number of
// goroutines has held still for a while (the goroutines that are done
// have exited, and the leaked senders are blocked), and returns that
// number. It polls rather than sleeping a fixed time, so that a loaded
// machine only makes it slower, never wrong; after 10s it returns what it
// sees.
func settled() int {
	const still = 50 // polls, a millisecond apart, without a change
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(10 * time.Second)
	n, same := runtime.NumGoroutine(), 0
	for same < still && time.Now().Before(deadline) {
		<-tick.C
		m := runtime.NumGoroutine()
		if m != n || searching.Load() != 0 {
			n, same = m, 0
			continue
		}
		same++
	}
	return n
}

// owners lists the live goroutines owned by path, with the line where
// each set of them waits.
func owners(w io.Writer, path string) {
	for _, g := range goroutines.All() {
		if g.Path != path || len(g.Frames) == 0 {
			continue
		}
		f := g.Frames[0]
		_, _ = fmt.Fprintf(w, "  %d owned by %q, blocked in %s (%s:%d)\n", g.Count, g.Path, f.Function, filepath.Base(f.File), f.Line)
	}
}

// search stands in for a slow database query.
func search(ctx context.Context, term string) (string, error) {
	searching.Add(1)
	defer searching.Add(-1)
	select {
	case <-time.After(searchTime):
		return "record for " + term, ctx.Err() // past a deadline that a loaded machine let both cases reach: still a timeout
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

// searchAllLeaky searches every term at once and returns the first
// failure, the way fan-outs are written with a WaitGroup: the first error
// is received, and every other sender blocks forever, with the goroutine
// that waits to close the channel.
func searchAllLeaky(terms []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), searchTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error)
	for _, term := range terms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := search(ctx, term); err != nil {
				errc <- err // blocks forever for all but the first failure
			}
		}()
	}
	go func() { wg.Wait(); close(errc) }()
	return <-errc
}

// searchAllOwned is the same fan-out with a Group: the first failure
// cancels the others, and Wait returns it once every search has returned.
func searchAllOwned(terms []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), searchTimeout)
	defer cancel()
	g := shepherd.NewGroup(ctx)
	for _, term := range terms {
		g.Go("search "+term, func(ctx context.Context) error {
			_, err := search(ctx, term)
			return err
		})
	}
	return g.Wait()
}
