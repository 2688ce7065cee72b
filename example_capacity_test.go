package shepherd_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/shepherd-go/shepherd"
)

// upload is a file to send, with its size in bytes.
type upload struct {
	name string
	size int64
}

// store stands in for an object store: it counts the bytes in flight and
// the most it ever saw.
type store struct{ inFlight, peak, sent atomic.Int64 }

func (s *store) put(ctx context.Context, u upload) error {
	n := s.inFlight.Add(u.size)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	s.sent.Add(u.size)
	s.inFlight.Add(-u.size)
	return nil
}

const MiB = 1 << 20

// uploads is a batch whose sizes differ a thousandfold.
var uploads = []upload{
	{"a.log", 200 * MiB}, {"b.png", 1 * MiB}, {"c.mp4", 120 * MiB}, {"d.txt", MiB / 8},
	{"e.tar", 250 * MiB}, {"f.csv", 3 * MiB}, {"g.iso", 180 * MiB}, {"h.json", MiB / 4},
}

// A pool of uploads bounded by the bytes in flight rather than by the
// number of files: 8 workers, and at most 256 MiB queued or being sent.
func ExamplePool_MaxWeight() {
	var objects store
	pool := shepherd.NewPool("uploads", 8, objects.put).
		MaxWeight(256*MiB, func(u upload) int64 { return u.size })

	ctx := context.Background()
	g := shepherd.NewGroup(ctx)
	g.Go("uploads", pool.Run)
	for _, u := range uploads {
		// Blocks while the file would take the pool over 256 MiB.
		if err := pool.Submit(ctx, u); err != nil {
			fmt.Println("not uploaded:", u.name, err)
		}
	}
	pool.Close()
	if err := g.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("MiB sent:", objects.sent.Load()/MiB, "peak within 256 MiB:", objects.peak.Load() <= 256*MiB)
	// Output: MiB sent: 754 peak within 256 MiB: true
}

// MaxWeight bounds the weight of the items queued and in flight; TrySubmit
// sheds an item that does not fit now, and no item heavier than the whole
// bound is taken.
func ExamplePool_MaxWeight_shed() {
	pool := shepherd.NewPool("uploads", 1, func(ctx context.Context, u upload) error { return nil }).
		MaxWeight(256*MiB, func(u upload) int64 { return u.size })
	// The pool is not running yet: what is submitted waits in the queue,
	// holding its weight.
	fmt.Println(pool.TrySubmit(upload{"a.log", 200 * MiB}))
	err := pool.TrySubmit(upload{"c.mp4", 120 * MiB})
	fmt.Println(errors.Is(err, shepherd.ErrQueueFull), pool.Stats().Weight/MiB)
	err = pool.TrySubmit(upload{"disk.img", 300 * MiB})
	fmt.Println(errors.Is(err, shepherd.ErrTooHeavy))
	// Output:
	// <nil>
	// true 200
	// true
}

// A Group whose uploads hold their size of a 256 MiB budget while they
// run: the small files go many at a time, the large ones a few.
func ExampleGroup_GoWeighted() {
	var objects store
	g := shepherd.NewGroup(context.Background(), shepherd.Budget(256*MiB))
	for _, u := range uploads {
		g.GoWeighted("upload "+u.name, u.size, func(ctx context.Context) error {
			return objects.put(ctx, u)
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("MiB sent:", objects.sent.Load()/MiB, "peak within 256 MiB:", objects.peak.Load() <= 256*MiB)
	// Output: MiB sent: 754 peak within 256 MiB: true
}

// TryGoWeighted starts a task only if its weight fits now, to shed load
// instead of waiting.
func ExampleGroup_TryGoWeighted() {
	g := shepherd.NewGroup(context.Background(), shepherd.Budget(10))
	hold := make(chan struct{})
	g.GoWeighted("big", 8, func(ctx context.Context) error { <-hold; return nil })
	fmt.Println(g.TryGoWeighted("medium", 5, func(ctx context.Context) error { return nil }))
	fmt.Println(g.TryGoWeighted("small", 2, func(ctx context.Context) error { return nil }))
	close(hold)
	fmt.Println(g.Wait())
	// Output:
	// false
	// true
	// <nil>
}

// Budget bounds the weight of a group's tasks; a task heavier than the
// whole budget fails the group at once instead of waiting forever.
func ExampleBudget() {
	g := shepherd.NewGroup(context.Background(), shepherd.Budget(256*MiB))
	g.GoWeighted("upload disk.img", 300*MiB, func(ctx context.Context) error { return nil })
	err := g.Wait()
	fmt.Println(errors.Is(err, shepherd.ErrTooHeavy))
	fmt.Println(err)
	// Output:
	// true
	// task "upload disk.img": shepherd: weight 314572800 is more than the group's whole Budget(268435456), so the task could never start; raise the Budget or split the task
}

// Resize changes the number of a running pool's workers, here after a
// configuration reload; Stats shows the new size at once.
func ExamplePool_Resize() {
	var handled atomic.Int64
	pool := shepherd.NewPool("reports", 2, func(ctx context.Context, n int) error {
		handled.Add(1)
		return nil
	})
	ctx := context.Background()
	g := shepherd.NewGroup(ctx)
	g.Go("reports", pool.Run)
	for n := range 50 {
		if n == 25 {
			pool.Resize(6) // say, from a config reload
		}
		if err := pool.Submit(ctx, n); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println("workers:", pool.Stats().Workers)
	pool.Resize(1)
	pool.Close()
	if err := g.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("handled:", handled.Load(), "workers:", pool.Stats().Workers)
	// Output:
	// workers: 6
	// handled: 50 workers: 1
}
