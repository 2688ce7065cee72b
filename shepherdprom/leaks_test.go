package shepherdprom_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/goroutines"
	"github.com/shepherd-go/shepherd/shepherdprom"
)

// TestExportLeaks runs TestExportLeaksChild in a child process, which
// leaks for good (no goleak check could pass after it).
func TestExportLeaks(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestExportLeaksChild$", "-test.v")
	cmd.Env = append(os.Environ(), "SHEPHERDPROM_LEAK_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestExportLeaksChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestExportLeaksChild(t *testing.T) {
	if os.Getenv("SHEPHERDPROM_LEAK_CHILD") != "1" {
		t.Skip("run by TestExportLeaks")
	}
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(50*time.Millisecond))
	started := make(chan struct{})
	sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error {
		for range 3 {
			ch := make(chan int)
			go func() { <-ch }() // nothing can ever reach ch: proven leaked
		}
		close(started)
		<-ctx.Done()
		return nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-started

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(shepherdprom.New(sup).ExportLeaks())
	text := exposition(t, reg)
	want := `shepherd_goroutines_leaked{path="app/api"} 3`
	if got := strings.Contains(text, want); got != goroutines.LeakProfileAvailable() {
		t.Errorf("exposition has %s: %v; want %v (leak profile available)\n%s", want, got, goroutines.LeakProfileAvailable(), text)
	}
	promtoolCheck(t, text)
}
