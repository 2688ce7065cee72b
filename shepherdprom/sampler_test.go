package shepherdprom_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/shepherdprom"
)

// TestExportGoroutines: the sampler's last sample is exported per path,
// with the ceiling and whether it was passed.
func TestExportGoroutines(t *testing.T) {
	release := make(chan struct{})
	sup := shepherd.NewSupervisor("app")
	started := make(chan struct{})
	sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error {
		for range 4 {
			go func() { <-release }()
		}
		close(started)
		<-ctx.Done()
		return nil
	}))
	gs := shepherd.NewGoroutineSampler(sup, time.Minute).MaxGoroutines("app/api", 3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	defer func() { close(release); cancel(); <-done }()
	<-started
	gs.Sample()

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(shepherdprom.New(sup).ExportGoroutines(gs))
	text := exposition(t, reg)
	for _, want := range []string{
		`shepherd_goroutines{path="app/api"} 5`,
		`shepherd_goroutines_max{path="app/api"} 3`,
		`shepherd_goroutines_over_limit{path="app/api"} 1`,
		`shepherd_goroutines_only_grown{path="app/api"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("exposition lacks %s\n%s", want, text)
		}
	}
	promtoolCheck(t, text)
}
