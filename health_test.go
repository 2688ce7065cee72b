package shepherd_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

func probe(h http.Handler, query string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+query, nil))
	return rec.Code, rec.Body.String()
}

func TestReadyzNamesServicesNotReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app")
		warm := make(chan struct{})
		sup.Add("db", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-warm
			shepherd.Ready(ctx)
			<-ctx.Done()
			return nil
		}), shepherd.AwaitReady(30*time.Second))
		sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
		readyz := shepherd.Readyz(sup)
		if code, body := probe(readyz, ""); code != 503 || body != "not ready\napp idle\n" {
			t.Fatalf("before Run: %d %q; want 503 naming the idle supervisor", code, body)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		if code, body := probe(readyz, ""); code != 503 || body != "not ready\napp/db starting\napp/api idle\n" {
			t.Fatalf("while db warms up: %d %q; want 503 naming app/db", code, body)
		}
		if code, body := probe(readyz, "?format=json"); code != 503 ||
			body != `{"status":"not ready","services":[{"path":"app/db","state":"starting"},{"path":"app/api","state":"idle"}]}`+"\n" {
			t.Fatalf("JSON while db warms up: %d %s", code, body)
		}
		close(warm)
		synctest.Wait()
		if code, body := probe(readyz, ""); code != 200 || body != "ready\n" {
			t.Fatalf("once all are ready: %d %q; want 200 ready", code, body)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v; want nil", err)
		}
	})
}

func TestReadinessFlipsBeforeServicesStopWithDrainDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev eventLog
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(20*time.Second), shepherd.DrainDelay(5*time.Second), shepherd.OnEvent(ev.record))
		stoppedAt := make(chan time.Time, 1)
		sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			stoppedAt <- time.Now()
			return nil
		}))
		readyz := shepherd.Readyz(sup)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		if code, _ := probe(readyz, ""); code != 200 {
			t.Fatalf("running: readyz %d; want 200", code)
		}
		cancel()
		began := time.Now()
		synctest.Wait()
		if code, body := probe(readyz, ""); code != 503 || body != "not ready\napp stopping\n" {
			t.Fatalf("right after the stop began: %d %q; want 503", code, body)
		}
		select {
		case <-stoppedAt:
			t.Fatal("api was stopped before the drain delay passed")
		default:
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if d := (<-stoppedAt).Sub(began); d != 5*time.Second {
			t.Fatalf("api stopped %v after the stop began; want the 5s drain delay", d)
		}
		if n := len(ev.of(shepherd.StateDraining, "app")); n != 1 {
			t.Fatalf("%d draining events; want 1", n)
		}
	})
}

func TestFailureDoesNotWaitForDrainDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(20*time.Second), shepherd.DrainDelay(5*time.Second))
		sup.Add("other", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
		sup.Add("bad", shepherd.ServiceFunc(func(ctx context.Context) error { time.Sleep(time.Second); return errBoom }))
		start := time.Now()
		if err := sup.Run(context.Background()); err == nil {
			t.Fatal("Run() = nil; want the failure")
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Run returned after %v; want 1s: a failure stops at once", d)
		}
	})
}

func TestLivezFalseOnlyWhenStuckOrFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer func() { close(release); synctest.Wait() }()
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(10*time.Second))
		var runs int
		sup.Add("flaky", shepherd.ServiceFunc(func(ctx context.Context) error {
			runs++
			if runs == 1 {
				return errBoom
			}
			<-ctx.Done()
			return nil
		}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: time.Minute, Max: time.Minute})
		sup.Add("hang", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			blockedInService(release)
			return nil
		}))
		livez := shepherd.Livez(sup)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		if code, body := probe(livez, ""); code != 200 || body != "live\n" {
			t.Fatalf("while flaky waits to restart: %d %q; want 200 live", code, body)
		}
		if code, body := probe(shepherd.Readyz(sup), ""); code != 503 || !strings.Contains(body, "app/flaky restarting") {
			t.Fatalf("readyz while flaky waits to restart: %d %q; want it named", code, body)
		}
		time.Sleep(2 * time.Minute)
		cancel()
		time.Sleep(9*time.Second + 500*time.Millisecond)
		if code, _ := probe(livez, ""); code != 200 {
			t.Fatalf("stopping within budget: livez %d; want 200", code)
		}
		if err := <-done; !errors.As(err, new(*shepherd.StuckError)) {
			t.Errorf("Run = %v; want the *StuckError of app/hang", err)
		}
		code, body := probe(livez, "")
		if code != 503 || !strings.HasPrefix(body, "not live\napp stuck: shepherd: 1 service did not stop") || !strings.Contains(body, "\napp/hang stuck: ") {
			t.Fatalf("after the budget: %d %q; want 503 naming app and app/hang", code, body)
		}
	})
}

func TestLivezFalsePastRestartLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sup := shepherd.NewSupervisor("app")
		sup.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
		workers := shepherd.NewSupervisor("workers", shepherd.MaxRestarts(2, time.Minute))
		workers.Add("flappy", shepherd.ServiceFunc(func(ctx context.Context) error { return errBoom }),
			shepherd.Restart(shepherd.Always), shepherd.Backoff{Min: time.Second, Max: time.Second})
		sup.Add("workers", workers)
		livez := shepherd.Livez(sup)
		done := make(chan error)
		go func() { done <- sup.Run(context.Background()) }()
		synctest.Wait()
		if code, body := probe(livez, ""); code != 200 {
			t.Fatalf("while flappy restarts within the limit: %d %q; want 200", code, body)
		}
		err := <-done
		var rl *shepherd.RestartLimitError
		if !errors.As(err, &rl) {
			t.Fatalf("Run() = %v; want a *RestartLimitError", err)
		}
		code, body := probe(livez, "")
		if code != 503 || !strings.HasPrefix(body, "not live\n") || !strings.Contains(body, `"app/workers/flappy" exceeded 2 restarts`) {
			t.Fatalf("past the restart limit: %d %q; want 503 naming app/workers/flappy", code, body)
		}
	})
}

// The drain delay is taken from the shutdown budget, not added to it: a
// service that never returns is reported stuck when the budget ends,
// counted from the stop request, drain delay included.
func TestDrainDelayIsPartOfTheBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer func() { close(release); synctest.Wait() }()
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(10*time.Second), shepherd.DrainDelay(4*time.Second))
		sup.Add("hang", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			blockedInService(release)
			return nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		synctest.Wait()
		cancel()
		began := time.Now()
		err := <-done
		var stuck *shepherd.StuckError
		if !errors.As(err, &stuck) {
			t.Fatalf("Run() = %v; want a *StuckError", err)
		}
		if d := time.Since(began); d != 10*time.Second {
			t.Fatalf("Run returned %v after the stop began; want the 10s budget, the 4s drain delay inside it", d)
		}
	})
}
