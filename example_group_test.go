package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shepherd-go/shepherd"
)

func ExampleNewGroup() {
	g := shepherd.NewGroup(context.Background(), shepherd.Limit(2))
	results := make([]string, 3)
	for i, user := range []string{"ada", "grace", "linus"} {
		g.Go("fetch "+user, func(ctx context.Context) error {
			results[i] = strings.ToUpper(user) // stands in for a call that honours ctx
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(results)
	// Output: [ADA GRACE LINUS]
}

func ExampleGroup_firstFailure() {
	g := shepherd.NewGroup(context.Background())
	g.Go("fetch orders", func(ctx context.Context) error {
		<-ctx.Done() // cancelled by the failure below
		return ctx.Err()
	})
	g.Go("fetch users", func(ctx context.Context) error {
		return errors.New("connection refused")
	})
	fmt.Println(g.Wait())
	// Output: task "fetch users": connection refused
}

func ExampleMap() {
	lengths, err := shepherd.Map(context.Background(), []string{"a", "bb", "ccc"}, 2,
		func(ctx context.Context, s string) (int, error) { return len(s), nil })
	fmt.Println(lengths, err)
	// Output: [1 2 3] <nil>
}

func ExampleForEach() {
	err := shepherd.ForEach(context.Background(), []string{"ok", "", "ok"}, 2,
		func(ctx context.Context, s string) error {
			if s == "" {
				return errors.New("empty")
			}
			return nil
		})
	fmt.Println(err)
	// Output: task "map[1]": empty
}

func ExamplePanicError() {
	g := shepherd.NewGroup(context.Background())
	g.Go("parse", func(ctx context.Context) error {
		fields := strings.Fields("")
		_ = fields[0] // index out of range
		return nil
	})
	err := g.Wait()
	var pe *shepherd.PanicError
	if errors.As(err, &pe) {
		fmt.Println("task:", pe.Task)
		fmt.Println("value:", pe.Value)
		fmt.Println("stack names the panic site:", strings.Contains(pe.Stack(), "ExamplePanicError"))
	}
	// Output:
	// task: parse
	// value: runtime error: index out of range [0] with length 0
	// stack names the panic site: true
}
