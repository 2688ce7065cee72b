package bench

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/oklog/run"
	"github.com/shepherd-go/shepherd"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// W4: cancel latency. 999 tasks block on their context; once all of them
// are waiting, one more task fails. The metric is the time from just before
// the failing task returns its error to the return of Wait: the library
// must cancel the context, every blocked task must wake and return, and
// the waiter must notice.

const cancelTasks = 1_000

var errFail = errors.New("task failed")

// cancelRound is the shared state of one batch: the tasks that have
// reached their wait, and when the failure happened.
type cancelRound struct {
	blocked atomic.Int64
	failAt  time.Time
}

// block marks the caller as waiting and waits for done.
func (r *cancelRound) block(done <-chan struct{}) {
	r.blocked.Add(1)
	<-done
}

// fail waits until every other task is blocked, then notes the time of the
// failure. The caller returns its error right after.
func (r *cancelRound) fail() error {
	for r.blocked.Load() < cancelTasks-1 {
		runtime.Gosched()
	}
	r.failAt = time.Now()
	return errFail
}

// A canceller runs one batch: cancelTasks-1 tasks calling r.block and one
// calling r.fail, and returns what waiting for them returned.
type canceller struct {
	name string
	run  func(r *cancelRound) error
}

var cancellers = []canceller{
	{"raw", func(r *cancelRound) error {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		var wg sync.WaitGroup
		for range cancelTasks - 1 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.block(ctx.Done())
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cancel(r.fail())
		}()
		wg.Wait()
		return context.Cause(ctx)
	}},
	{"shepherd", func(r *cancelRound) error {
		g := shepherd.NewGroup(context.Background())
		for range cancelTasks - 1 {
			g.Go("wait", func(ctx context.Context) error {
				r.block(ctx.Done())
				return ctx.Err()
			})
		}
		g.Go("fail", func(context.Context) error { return r.fail() })
		return g.Wait()
	}},
	{"errgroup", func(r *cancelRound) error {
		g, ctx := errgroup.WithContext(context.Background())
		for range cancelTasks - 1 {
			g.Go(func() error {
				r.block(ctx.Done())
				return ctx.Err()
			})
		}
		g.Go(r.fail)
		return g.Wait()
	}},
	{"conc", func(r *cancelRound) error {
		p := pool.New().WithContext(context.Background()).WithCancelOnError().WithFirstError()
		for range cancelTasks - 1 {
			p.Go(func(ctx context.Context) error {
				r.block(ctx.Done())
				return ctx.Err()
			})
		}
		p.Go(func(context.Context) error { return r.fail() })
		return p.Wait()
	}},
	{"oklog-run", func(r *cancelRound) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var g run.Group
		for range cancelTasks - 1 {
			g.Add(func() error {
				r.block(ctx.Done())
				return ctx.Err()
			}, func(error) { cancel() })
		}
		g.Add(r.fail, func(error) {})
		return g.Run()
	}},
	{"pond", func(r *cancelRound) error {
		p := pond.NewPool(0)
		defer p.StopAndWait()
		g := p.NewGroup()
		ctx := g.Context()
		for range cancelTasks - 1 {
			g.SubmitErr(func() error {
				r.block(ctx.Done())
				return ctx.Err()
			})
		}
		g.SubmitErr(r.fail)
		return g.Wait()
	}},
}

// BenchmarkCancelLatency reports the median latency as ns/cancel and, as
// in perTask, the median ratio to raw's latency in rounds paired with the
// library's as raw-ratio.
func BenchmarkCancelLatency(b *testing.B) {
	for _, c := range cancellers {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			latency := func(c canceller) time.Duration {
				var r cancelRound
				err := c.run(&r)
				end := time.Now()
				if !errors.Is(err, errFail) {
					b.Fatalf("%s: Wait() = %v; want %v", c.name, err, errFail)
				}
				return end.Sub(r.failAt)
			}
			var lat []time.Duration
			var ratios []float64
			for b.Loop() {
				var base time.Duration
				paired := c.name != "raw"
				if paired && len(lat)%2 == 1 {
					base = latency(cancellers[0])
				}
				d := latency(c)
				if paired && len(lat)%2 == 0 {
					base = latency(cancellers[0])
				}
				lat = append(lat, d)
				if paired {
					ratios = append(ratios, float64(d)/float64(base))
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "ns/cancel")
			if len(ratios) > 0 {
				b.ReportMetric(median(ratios), "raw-ratio")
			}
		})
	}
}
