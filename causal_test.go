package shepherd_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/shepherd-go/shepherd"
)

func TestFirstFailureIsCausalAcrossLevels(t *testing.T) {
	// root/a/b/deep panics first; root/late fails only once it has seen
	// the panic's event. However the goroutines are scheduled, Run lists
	// the panic first: the failure that caused the other comes before it.
	errLate := errors.New("late: saw the panic")
	rounds := 1000
	if testing.Short() {
		rounds = 100
	}
	for i := range rounds {
		seen := make(chan struct{})
		var once sync.Once
		root := shepherd.NewSupervisor("root", shepherd.OnEvent(func(e shepherd.Event) {
			if e.State == shepherd.StateFailed && e.Path == "root/a/b/deep" {
				once.Do(func() { close(seen) })
			}
		}))
		a := shepherd.NewSupervisor("a")
		b := shepherd.NewSupervisor("b")
		b.Add("deep", shepherd.ServiceFunc(func(context.Context) error { panic("deep down") }))
		a.Add("b", b)
		root.Add("a", a)
		root.Add("late", shepherd.ServiceFunc(func(ctx context.Context) error {
			select {
			case <-seen:
				return errLate
			case <-ctx.Done():
				return nil
			}
		}))
		err := root.Run(context.Background())
		errs := multiErrors(err)
		var pe *shepherd.PanicError
		if len(errs) == 0 || !errors.As(errs[0], &pe) || pe.Task != "root/a/b/deep" {
			t.Fatalf("round %d: Run() = %v; want the panic of root/a/b/deep first", i, err)
		}
	}
}

func multiErrors(err error) []error {
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		return m.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
