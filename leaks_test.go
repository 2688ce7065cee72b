package shepherd_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/goroutines"
)

// leakChildEnv marks the child process of TestProvenLeaks, which leaks
// goroutines for good: a leak the runtime can prove is one nothing can end,
// so no test that shares a process with goleak may make one.
const leakChildEnv = "SHEPHERD_LEAK_CHILD"

// TestProvenLeaks runs TestProvenLeaksChild in a child process and checks
// that it passed. Built with GOEXPERIMENT=goroutineleakprofile, the child
// checks that leaks are proven and named by owner; built without, that
// nothing is claimed.
func TestProvenLeaks(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestProvenLeaksChild$", "-test.v")
	cmd.Env = append(os.Environ(), leakChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestProvenLeaksChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if goroutines.LeakProfileAvailable() {
		t.Log("built with GOEXPERIMENT=goroutineleakprofile: leaks proven")
	}
}

// leakOne starts a goroutine that waits on a channel only it can reach:
// the runtime can prove it will never wake.
func leakOne() {
	ch := make(chan int)
	go func() { <-ch }()
}

func TestProvenLeaksChild(t *testing.T) {
	if os.Getenv(leakChildEnv) != "1" {
		t.Skip("run by TestProvenLeaks")
	}
	proven := goroutines.LeakProfileAvailable()

	t.Run("debug page", func(t *testing.T) {
		// The leaked goroutines outlive app/api, so the stop reports them
		// stuck after its budget: keep that short.
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(50*time.Millisecond))
		started := make(chan struct{})
		sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error {
			leakOne()
			leakOne()
			close(started)
			<-ctx.Done()
			return nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sup.Run(ctx) }()
		<-started
		page := debugTree(t, shepherd.DebugHandler(sup), "")
		cancel()
		if err := <-done; !errors.As(err, new(*shepherd.StuckError)) {
			t.Errorf("Run = %v; want a *StuckError: the leaked goroutines outlive app/api", err)
		}
		api := page.Roots[0].Children[0]
		wantLeaked := 0
		if proven {
			wantLeaked = 2
		}
		if page.LeakProfile != proven || api.Leaked != wantLeaked {
			t.Errorf("leak_profile %v, app/api leaked_goroutines %d; want %v, %d", page.LeakProfile, api.Leaked, proven, wantLeaked)
		}
		leakedSets := 0
		for _, g := range api.Goroutines {
			if g.Leaked > 0 {
				leakedSets++
				if g.Leaked != 2 || len(g.Frames) == 0 || !strings.Contains(g.Frames[0].Function, "leakOne") {
					t.Errorf("leaked set = %+v; want 2 leaked in leakOne", g)
				}
			}
		}
		if proven != (leakedSets == 1) {
			t.Errorf("%d sets marked leaked; want %v", leakedSets, proven)
		}
	})

	t.Run("stuck report", func(t *testing.T) {
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(50*time.Millisecond))
		started := make(chan struct{})
		sup.Add("hang", shepherd.ServiceFunc(func(ctx context.Context) error {
			close(started)
			<-make(chan int) // ignores ctx, and nothing can ever wake it
			return nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sup.Run(ctx) }()
		<-started
		cancel()
		var se *shepherd.StuckError
		if err := <-done; !errors.As(err, &se) {
			t.Fatalf("Run = %v; want a *StuckError", err)
		}
		report := se.Report()
		if got := strings.Contains(report, "proven leaked"); got != proven {
			t.Errorf("report says proven leaked: %v; want %v\n%s", got, proven, report)
		}
	})
}
