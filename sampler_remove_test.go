package shepherd_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// TestGoroutineSamplerForgetsRemovedServices: once a service is removed
// from the tree, the next sample drops its history, so that Trends (and
// the metrics read from it) do not keep a stale count for it, nor grow
// with every name a tree that adds and removes services has ever used.
func TestGoroutineSamplerForgetsRemovedServices(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app")
		gs := shepherd.NewGoroutineSampler(sup, time.Minute)
		blockForever := shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil })
		sup.Add("tenant-1", blockForever)
		sup.Add("stays", blockForever)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		gs.Sample()
		if _, ok := gs.Trends()["app/tenant-1"]; !ok {
			t.Fatalf("Trends() = %v; want app/tenant-1 while it runs", gs.Trends())
		}
		if err := sup.Remove(ctx, "tenant-1"); err != nil {
			t.Fatal(err)
		}
		gs.Sample()
		trends := gs.Trends()
		if _, ok := trends["app/tenant-1"]; ok {
			t.Errorf("Trends() = %v; want no app/tenant-1 after its removal", trends)
		}
		if tr, ok := trends["app/stays"]; !ok || len(tr.Counts) != 2 {
			t.Errorf("Trends()[app/stays] = %+v; want its two samples", tr)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
