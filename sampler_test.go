package shepherd_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/goroutines"
)

//go:noinline
func leakedInHandler(release chan struct{}) { <-release }

// TestGoroutineSamplerFlagsGrowthAndLimit: a service whose raw goroutines
// grow at every sample is flagged as only grown, passes its ceiling with an
// event at once, and fails the wrapped liveness probe by name, while a
// quiet sibling under its own ceiling is neither; once the goroutines end,
// the probe is live again.
func TestGoroutineSamplerFlagsGrowthAndLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		leak := make(chan int)
		events := make(chan shepherd.Event, 16)
		sup := shepherd.NewSupervisor("app", shepherd.OnEvent(func(e shepherd.Event) {
			var over *goroutines.LimitError
			if errors.As(e.Err, &over) {
				events <- e
			}
		}))
		gs := shepherd.NewGoroutineSampler(sup, time.Second).Window(3).
			MaxGoroutines("app/api", 6).MaxGoroutines("app/calm", 6)
		sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error {
			for {
				select {
				case n := <-leak:
					for range n {
						go leakedInHandler(release)
					}
				case <-ctx.Done():
					return nil
				}
			}
		}))
		sup.Add("calm", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
		sup.Add("goroutine-sampler", gs)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait() // first sample: 1 goroutine in app/api

		livez := gs.Livez(shepherd.Livez(sup))
		for range 2 {
			leak <- 3
			time.Sleep(time.Second)
			synctest.Wait()
		}
		trends := gs.Trends()
		api, calm := trends["app/api"], trends["app/calm"]
		// The first sample may come before app/api's own goroutine runs.
		if len(api.Counts) != 3 || api.Counts[0] > 1 || !slices.Equal(api.Counts[1:], []int{4, 7}) || !api.Growing || !api.Over || api.Max != 6 {
			t.Errorf("app/api trend = %+v; want counts [0 or 1, 4, 7], only grown, over its max of 6", api)
		}
		if calm.Growing || calm.Over {
			t.Errorf("app/calm trend = %+v; want neither growing nor over", calm)
		}
		select {
		case e := <-events:
			var le *goroutines.LimitError
			if e.Path != "app/api" || !errors.As(e.Err, &le) || le.Count != 7 || !strings.Contains(e.Err.Error(), "leakedInHandler") {
				t.Errorf("event = %v %q %v; want app/api past its limit, waiting in leakedInHandler", e.State, e.Path, e.Err)
			}
		default:
			t.Errorf("no over-limit event after app/api passed its ceiling")
		}
		rec := get(t, livez, "GET", "/livez")
		if body := rec.Body.String(); rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, `app/api goroutine limit: shepherd: "app/api" holds 7 goroutines, past its MaxGoroutines of 6`) || strings.Contains(body, "app/calm") {
			t.Errorf("livez = %d %q; want 503 naming app/api alone", rec.Code, body)
		}
		text := get(t, shepherd.DebugHandler(sup), "GET", "/?goroutines=0").Body.String()
		if !regexp.MustCompile(`app/api  service  running for 2s  goroutines [01]→4→7 \(max 6\) OVER LIMIT ONLY GROWN`).MatchString(text) {
			t.Errorf("debug page lacks app/api's trend:\n%s", text)
		}

		close(release)
		time.Sleep(time.Second)
		synctest.Wait()
		if rec := get(t, livez, "GET", "/livez"); rec.Code != http.StatusOK {
			t.Errorf("livez after the goroutines ended = %d %q; want 200", rec.Code, rec.Body)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestGoroutineSamplerMisuse(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"nil root", func() { shepherd.NewGoroutineSampler(nil, time.Minute) }},
		{"empty path", func() { shepherd.NewGoroutineSampler(shepherd.NewSupervisor("app"), time.Minute).MaxGoroutines("", 1) }},
		{"zero limit", func() {
			shepherd.NewGoroutineSampler(shepherd.NewSupervisor("app"), time.Minute).MaxGoroutines("app/api", 0)
		}},
		{"zero interval", func() { shepherd.NewGoroutineSampler(shepherd.NewSupervisor("app"), 0) }},
		{"nil livez", func() { shepherd.NewGoroutineSampler(shepherd.NewSupervisor("app"), time.Minute).Livez(nil) }},
	} {
		if msg := mustPanic(t, tc.fn); !strings.HasPrefix(msg, "shepherd: ") {
			t.Errorf("%s: panic %q; want a shepherd: message", tc.name, msg)
		}
	}
}

// BenchmarkGoroutineSample measures one sample of a tree whose service
// holds 1,000 blocked goroutines: the cost of the sampler per interval.
func BenchmarkGoroutineSample(b *testing.B) {
	release := make(chan struct{})
	sup := shepherd.NewSupervisor("app")
	started := make(chan struct{})
	sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error {
		for range 1000 {
			go leakedInHandler(release)
		}
		close(started)
		<-ctx.Done()
		return nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	<-started
	gs := shepherd.NewGoroutineSampler(sup, time.Minute)
	for b.Loop() {
		gs.Sample()
	}
	close(release)
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
