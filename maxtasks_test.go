package shepherd_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// peak tracks how many tasks run at once.
type peak struct{ now, max atomic.Int32 }

func (p *peak) enter() {
	n := p.now.Add(1)
	for m := p.max.Load(); n > m && !p.max.CompareAndSwap(m, n); m = p.max.Load() {
	}
}

func (p *peak) leave() { p.now.Add(-1) }

func TestMaxTasksCapsTasksAcrossGroups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p peak
		release := make(chan struct{})
		sup := shepherd.NewSupervisor("app", shepherd.MaxTasks(3))
		for _, name := range []string{"a", "b"} {
			sup.Add(name, shepherd.ServiceFunc(func(ctx context.Context) error {
				g := shepherd.NewGroup(ctx)
				for i := range 5 {
					g.Go(fmt.Sprint("task", i), func(ctx context.Context) error {
						p.enter()
						defer p.leave()
						<-release
						return nil
					})
				}
				if err := g.Wait(); err != nil {
					return err
				}
				<-ctx.Done()
				return nil
			}))
		}
		probe, tried := make(chan struct{}), make(chan bool)
		sup.Add("probe", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-probe
			tried <- shepherd.NewGroup(ctx).TryGo("extra", func(context.Context) error { return nil })
			<-ctx.Done()
			return nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		if n := p.now.Load(); n != 3 {
			t.Fatalf("%d tasks running under MaxTasks(3); want 3", n)
		}
		close(probe)
		if <-tried {
			t.Fatal("TryGo at the cap = true; want false")
		}
		close(release)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if m := p.max.Load(); m != 3 {
			t.Fatalf("peak %d tasks at once; want 3", m)
		}
	})
}

// A request flood against handlers that each start a task becomes a queue
// of handlers waiting for a slot, not a flood of goroutines.
func TestMaxTasksBoundsRequestFlood(t *testing.T) {
	const requests, capacity = 20, 4
	var p peak
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		g := shepherd.NewGroup(r.Context())
		g.Go("work", func(ctx context.Context) error {
			p.enter()
			defer p.leave()
			<-release
			return nil
		})
		if err := g.Wait(); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: mux, ReadHeaderTimeout: 5 * time.Second})
	sup := shepherd.NewSupervisor("app", shepherd.MaxTasks(capacity))
	sup.Add("api", api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	eventually(t, func() bool { return api.Addr() != nil })

	transport := &http.Transport{MaxConnsPerHost: requests}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			resp, err := client.Get("http://" + api.Addr().String() + "/work")
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			if err := resp.Body.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	eventually(t, func() bool { return p.now.Load() == capacity })
	close(release)
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if m := p.max.Load(); m != capacity {
		t.Fatalf("peak %d tasks at once under MaxTasks(%d)", m, capacity)
	}
}
