package shepherd_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

func TestMainSIGTERMDrainsAndReturnsZero(t *testing.T) {
	var j journal
	sup := shepherd.NewSupervisor("app")
	sup.Add("a", recorded(&j, "a"), shepherd.AwaitReady(30*time.Second))
	sup.Add("b", recorded(&j, "b"), shepherd.AwaitReady(30*time.Second))
	code := make(chan int)
	go func() { code <- shepherd.Main(sup) }()
	eventually(t, func() bool { return slices.Equal(j.get(), []string{"start a", "start b"}) })
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := <-code; c != shepherd.ExitOK {
		t.Fatalf("Main() = %d; want %d", c, shepherd.ExitOK)
	}
	if got, want := j.get(), []string{"start a", "start b", "stop b", "stop a"}; !slices.Equal(got, want) {
		t.Fatalf("journal = %q; want %q", got, want)
	}
}

func TestMainSecondSignalForcesReturn(t *testing.T) {
	release := make(chan struct{})
	stopping := make(chan struct{})
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(time.Hour))
	workers := shepherd.NewSupervisor("workers")
	workers.Add("stubborn", shepherd.ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		close(stopping)
		blockedInService(release)
		return nil
	}))
	sup.Add("workers", workers)
	var report strings.Builder
	code := make(chan int, 1)
	go func() { code <- shepherd.MainWith(sup, shepherd.MainLogger(discard), shepherd.MainReport(&report)) }()
	// The signal must find the nested service running, or the stop would
	// find nothing to wait for.
	eventually(t, func() bool {
		n := sup.Snapshot()
		return len(n.Children) == 1 && len(n.Children[0].Children) == 1 && n.Children[0].Children[0].State == shepherd.StateRunning
	})
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopping:
	case c := <-code:
		t.Fatalf("Main() = %d before the stubborn service saw the stop", c)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := <-code; c != 128+int(syscall.SIGTERM) {
		t.Fatalf("Main() = %d; want %d", c, 128+int(syscall.SIGTERM))
	}
	// The stubborn service's stack is listed once, under its own path,
	// not again under each supervisor above it.
	out := report.String()
	if n := strings.Count(out, "blockedInService"); n != 1 {
		t.Errorf("report lists the stuck stack %d times; want once:\n%s", n, out)
	}
	if !strings.Contains(out, "owned by app/workers/stubborn\n    github.com/shepherd-go/shepherd_test.blockedInService") {
		t.Errorf("report does not attribute the stuck stack to app/workers/stubborn:\n%s", out)
	}
	// Let the abandoned service finish so the test leaks nothing.
	close(release)
	eventually(t, func() bool { return sup.Snapshot().State == shepherd.StateStopped })
}

func TestMainExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context) error
		want int
	}{
		{"clean", func(context.Context) error { return nil }, shepherd.ExitOK},
		{"failure", func(context.Context) error { return errBoom }, shepherd.ExitFailure},
		{"stop tree", func(context.Context) error { return shepherd.ErrStopTree }, shepherd.ExitOK},
		{"panic", func(context.Context) error { panic("boom") }, shepherd.ExitFailure},
		{"stuck", func(context.Context) error { return &shepherd.StuckError{} }, shepherd.ExitStuck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := shepherd.Main(shepherd.ServiceFunc(tc.run)); got != tc.want {
				t.Fatalf("Main() = %d; want %d", got, tc.want)
			}
		})
	}
}

func TestMainEchoOfSignalExitsZero(t *testing.T) {
	for _, tc := range []struct {
		name   string
		result func(ctx context.Context) error
	}{
		{"ctx.Err", func(ctx context.Context) error { return ctx.Err() }},
		{"cause", func(ctx context.Context) error { return fmt.Errorf("serve: %w", context.Cause(ctx)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan struct{})
			code := make(chan int)
			go func() {
				code <- shepherd.MainWith(shepherd.ServiceFunc(func(ctx context.Context) error {
					close(started)
					<-ctx.Done()
					return tc.result(ctx)
				}), shepherd.MainLogger(discard))
			}()
			<-started
			if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if c := <-code; c != shepherd.ExitOK {
				t.Fatalf("Main() = %d; want %d: an error that only echoes the signal is a clean stop", c, shepherd.ExitOK)
			}
		})
	}
}

func TestMainReportsGoexit(t *testing.T) {
	code := make(chan int, 1)
	go func() {
		code <- shepherd.MainWith(shepherd.ServiceFunc(func(ctx context.Context) error {
			runtime.Goexit() // t.FailNow in a test helper
			return nil
		}), shepherd.MainLogger(discard))
	}()
	select {
	case c := <-code:
		if c != shepherd.ExitFailure {
			t.Fatalf("Main() = %d; want %d", c, shepherd.ExitFailure)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main still waiting 10s after its service called runtime.Goexit")
	}
}
