package shepherdtest_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/shepherdtest"
)

// A task that starts a goroutine with a plain go statement and forgets it:
// Find names the task as the owner of the goroutine left behind.
func ExampleFind() {
	release := make(chan struct{})
	g := shepherd.NewGroup(context.Background())
	g.Go("search", func(ctx context.Context) error {
		go func() { <-release }() // nobody will wait for this one
		return nil
	})
	_ = g.Wait()

	err := shepherdtest.Find(shepherdtest.Grace(10 * time.Millisecond))
	for _, line := range strings.Split(err.Error(), "\n") {
		owner, _, _ := strings.Cut(line, " in ") // the rest is a file path
		fmt.Println(owner)
	}

	close(release)
	fmt.Println(shepherdtest.Find())
	// Output:
	// shepherdtest: 1 goroutine owned by shepherd is still running:
	//   "search": 1 goroutine
	// <nil>
}

// In a test, defer VerifyNone at the top; t is the test's *testing.T.
func ExampleVerifyNone() {
	t := printer{} // stands in for the *testing.T of a test
	defer shepherdtest.VerifyNone(t)

	g := shepherd.NewGroup(context.Background())
	g.Go("fetch", func(ctx context.Context) error { return nil })
	fmt.Println(g.Wait())
	// Output:
	// <nil>
}

type printer struct{}

func (printer) Helper()                           {}
func (printer) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
