package shepherd_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// slowToStop returns d after its context is cancelled.
func slowToStop(d time.Duration) shepherd.ServiceFunc {
	return func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(d)
		return nil
	}
}

func TestStopDeadlineCapsShutdownUnderWay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(time.Minute))
		sup.Add("slow", slowToStop(30*time.Second))
		sup.Add("fail", shepherd.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(time.Second)
			return errBoom
		}))
		errc := make(chan error, 1)
		start := time.Now()
		go func() { errc <- sup.Run(context.Background()) }()
		time.Sleep(2 * time.Second) // the failure's shutdown is under way
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		sup.Stop(ctx)
		err := <-errc
		if took := time.Since(start); took != 3*time.Second {
			t.Fatalf("Run returned after %v (%v); want 3s: Stop's deadline caps the shutdown", took, err)
		}
		var se *shepherd.StuckError
		if !errors.As(err, &se) || !errors.Is(err, errBoom) {
			t.Fatalf("Run() = %v; want the failure and slow stuck", err)
		}
		time.Sleep(time.Minute) // let slow finish inside the bubble
	})
}
