package shepherdprom_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/shepherdprom"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv("SHEPHERDPROM_LEAK_CHILD") == "1" {
		os.Exit(m.Run()) // leaks on purpose; TestExportLeaks checks it
	}
	goleak.VerifyTestMain(m)
}

// exposition gathers reg in the Prometheus text format.
func exposition(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestCollectorSeries runs a tree with a pool whose items succeed, fail and
// panic, and a service that fails, and checks the series a scrape gives.
func TestCollectorSeries(t *testing.T) {
	var c *shepherdprom.Collector
	sup := shepherd.NewSupervisor("app", shepherd.OnEvent(func(e shepherd.Event) { c.OnEvent(e) }))
	c = shepherdprom.New(sup)
	pool := shepherd.NewPool("reports", 1, func(ctx context.Context, n int) error {
		switch n {
		case 1:
			return errors.New("bad item")
		case 2:
			panic("worse item")
		}
		return nil
	})
	pool.Observe(c.ObserveItem)
	for i := range 4 {
		if err := pool.TrySubmit(i); err != nil {
			t.Fatal(err)
		}
	}
	sup.Add("reports", pool)
	sup.Add("sync", shepherd.ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return errors.New("upstream gone")
	}))
	ctx, cancel := context.WithCancel(context.Background())
	sup.Add("close", shepherd.ServiceFunc(func(ctx context.Context) error {
		err := pool.Stop(ctx) // drains the four items
		cancel()
		return err
	}))
	_ = sup.Run(ctx)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	text := exposition(t, reg)
	for _, want := range []string{
		`shepherd_service_state{kind="supervisor",path="app",state="failed"} 1`,
		`shepherd_service_state{kind="pool",path="app/reports",state="stopped"} 1`,
		`shepherd_service_state{kind="pool",path="app/reports",state="running"} 0`,
		`shepherd_service_restarts_total{path="app/sync"} 0`,
		`shepherd_failures_total{kind="error",path="app/reports"} 1`,
		`shepherd_failures_total{kind="panic",path="app/reports"} 1`,
		`shepherd_failures_total{kind="error",path="app/sync"} 1`,
		`shepherd_pool_items_submitted_total{path="app/reports"} 4`,
		`shepherd_pool_items_total{outcome="done",path="app/reports"} 2`,
		`shepherd_pool_items_total{outcome="failed",path="app/reports"} 1`,
		`shepherd_pool_items_total{outcome="panicked",path="app/reports"} 1`,
		`shepherd_pool_items_total{outcome="handed_back",path="app/reports"} 0`,
		`shepherd_pool_items_queued{path="app/reports"} 0`,
		`shepherd_pool_queue_wait_seconds_count{path="app/reports"} 3`, // the panicked item is not timed,
		`shepherd_pool_handle_seconds_count{path="app/reports"} 3`,     // the panicked item is not timed,
		`shepherd_service_start_time_seconds{path="app/sync"} `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("exposition lacks %s\n%s", want, text)
		}
	}
	promtoolCheck(t, text)
}

// promtoolCheck runs promtool check metrics on the exposition, where
// promtool is installed (CI installs it with the prometheus package).
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		requireInCI(t, "promtool")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestNewPanicsWithoutRoot(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "shepherdprom: ") {
			t.Errorf("New() panicked with %v; want a shepherdprom: message", r)
		}
	}()
	shepherdprom.New()
}
