package shepherdtest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/goroutines"
	"github.com/shepherd-go/shepherd/shepherdtest"
	"go.uber.org/goleak"
)

// TestMain checks for leaks with goleak, which sees every goroutine, as
// every test package here does. The child process of
// TestVerifyTestMainFailsTheBinary runs shepherdtest.VerifyTestMain
// instead, which is what that test is about.
func TestMain(m *testing.M) {
	if os.Getenv("SHEPHERDTEST_LEAK") == "1" {
		shepherdtest.VerifyTestMain(m)
	}
	goleak.VerifyTestMain(m)
}

// recorder is a shepherdtest.TB that keeps what it was told.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// forgottenSend blocks on a send nobody receives, until release (which
// the test needs so that its synctest bubble can end).
//
//go:noinline
func forgottenSend(ch chan int, release chan struct{}) {
	select {
	case ch <- 1:
	case <-release:
	}
}

//go:noinline
func waitForever(release chan struct{}) { <-release }

func TestVerifyNoneNamesOwners(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		g := shepherd.NewGroup(context.Background())
		g.Go("search", func(ctx context.Context) error {
			ch := make(chan int)
			for range 3 {
				go forgottenSend(ch, release) // the forgotten senders
			}
			return nil
		})
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		sup := shepherd.NewSupervisor("app")
		sup.Add("poller", shepherd.ServiceFunc(func(ctx context.Context) error { waitForever(release); return nil }))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()

		var r recorder
		start := time.Now()
		shepherdtest.VerifyNone(&r)
		if waited := time.Since(start); waited != shepherdtest.DefaultGrace {
			t.Errorf("VerifyNone gave up after %v; want DefaultGrace (%v)", waited, shepherdtest.DefaultGrace)
		}
		if len(r.errs) != 1 {
			t.Fatalf("VerifyNone reported %d errors; want 1: %q", len(r.errs), r.errs)
		}
		want := regexp.MustCompile(`^shepherdtest: 4 goroutines owned by shepherd are still running:
  "search": 3 goroutines in github\.com/shepherd-go/shepherd/shepherdtest_test\.forgottenSend \(\S+/shepherdtest_test\.go:\d+\)
  "app/poller": 1 goroutine in github\.com/shepherd-go/shepherd/shepherdtest_test\.waitForever \(\S+/shepherdtest_test\.go:\d+\)$`)
		if !want.MatchString(r.errs[0]) {
			t.Errorf("VerifyNone reported\n%s\nwant a match for\n%s", r.errs[0], want)
		}

		r = recorder{}
		shepherdtest.VerifyNone(&r, shepherdtest.IgnorePath("search"), shepherdtest.IgnorePath("app"), shepherdtest.Grace(time.Second))
		if len(r.errs) != 0 {
			t.Errorf("VerifyNone ignoring both owners reported %q", r.errs)
		}

		close(release)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v; want nil", err)
		}
		r = recorder{}
		shepherdtest.VerifyNone(&r)
		if len(r.errs) != 0 {
			t.Errorf("VerifyNone once every goroutine returned = %q; want none", r.errs)
		}
	})
}

// TestLeakForTestMain leaks a goroutine owned by a task, when run by
// TestVerifyTestMainFailsTheBinary in a child process.
func TestLeakForTestMain(t *testing.T) {
	if os.Getenv("SHEPHERDTEST_LEAK") != "1" {
		t.Skip("run by TestVerifyTestMainFailsTheBinary")
	}
	g := shepherd.NewGroup(context.Background())
	g.Go("leaky", func(ctx context.Context) error {
		go waitForever(make(chan struct{}))
		return nil
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyTestMainFailsTheBinary(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLeakForTestMain$")
	cmd.Env = append(os.Environ(), "SHEPHERDTEST_LEAK=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("test binary with a leaking test exited %d (%v); want 1\n%s", code, err, out)
	}
	// Built with GOEXPERIMENT=goroutineleakprofile, the runtime proves
	// the leak and the report says so at once; built without, the check
	// waits out its grace period and reports what still runs.
	state := "still running"
	if goroutines.LeakProfileAvailable() {
		state = `proven leaked \(the runtime proved it can never wake\)`
	}
	want := regexp.MustCompile(`(?m)^PASS\nshepherdtest: 1 goroutine owned by shepherd is ` + state + `:\n  "leaky": 1 goroutine in github\.com/shepherd-go/shepherd/shepherdtest_test\.waitForever \(`)
	if !want.Match(out) {
		t.Fatalf("output does not report the leak after the tests passed:\n%s", out)
	}
	if goroutines.LeakProfileAvailable() && took >= shepherdtest.DefaultGrace {
		t.Errorf("the child took %v; a proven leak must be reported at once, not after the %v grace", took, shepherdtest.DefaultGrace)
	}
}
