package bench

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
	"github.com/thejerf/suture/v4"
)

// W6: restart rate. A service that fails as soon as it starts, restarted
// at once every time, until it has run b.N+1 times; the metric is restarts
// per second. Backoff and restart limits are set so that neither ever
// delays a restart: what is measured is the supervisor's own machinery.

// flaky counts its runs and fails each one; run number limit+1 asks the
// supervisor to stop instead.
type flaky struct {
	runs, limit int
	stop        error
}

func (f *flaky) run() error {
	f.runs++
	if f.runs > f.limit {
		return f.stop
	}
	return errFail
}

// Serve is the suture.Service interface.
func (f *flaky) Serve(context.Context) error { return f.run() }

func BenchmarkRestartRate(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		// A loop that runs the service in a goroutine of its own, recovers
		// a panic, and starts it again.
		f := &flaky{stop: errStopLoop}
		runOnce := func() (err error) {
			done := make(chan error, 1)
			go func() {
				defer func() {
					if r := recover(); r != nil {
						done <- errPanic
					}
				}()
				done <- f.run()
			}()
			return <-done
		}
		benchRestarts(b, f, func() error {
			for {
				if err := runOnce(); errors.Is(err, errStopLoop) {
					return err
				}
			}
		})
	})
	b.Run("shepherd", func(b *testing.B) {
		f := &flaky{stop: shepherd.ErrStopTree}
		// The restart window is as short as can be, so that the restart
		// limit never trips: the limit is not what is measured.
		sup := shepherd.NewSupervisor("bench", shepherd.MaxRestarts(math.MaxInt, time.Nanosecond))
		sup.Add("flaky", shepherd.ServiceFunc(func(context.Context) error { return f.run() }),
			shepherd.Restart(shepherd.Always), shepherd.Backoff{})
		benchRestarts(b, f, func() error { return sup.Run(context.Background()) })
	})
	b.Run("suture", func(b *testing.B) {
		f := &flaky{stop: suture.ErrTerminateSupervisorTree}
		sup := suture.New("bench", suture.Spec{
			EventHook:        func(suture.Event) {}, // the default logs every failure
			FailureThreshold: math.MaxFloat64,       // never back off
			FailureBackoff:   time.Nanosecond,
		})
		sup.Add(f)
		benchRestarts(b, f, func() error { return sup.Serve(context.Background()) })
	})
}

var errStopLoop = errors.New("stop the loop")

// benchRestarts runs a supervisor that restarts f b.N times; run returns
// once f asked it to stop.
func benchRestarts(b *testing.B, f *flaky, run func() error) {
	b.ReportAllocs()
	// The whole of b.N is one supervisor run, so the loop body runs once.
	f.limit = b.N
	b.ResetTimer()
	err := run()
	b.StopTimer()
	if f.runs != b.N+1 {
		b.Fatalf("service ran %d times; want %d", f.runs, b.N+1)
	}
	if err == nil || !errors.Is(err, f.stop) {
		b.Fatalf("run() = %v; want %v", err, f.stop)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "restarts/s")
}
