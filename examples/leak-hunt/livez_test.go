package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestLivezFailsPastTheCeiling hammers /leak over loopback until app/api
// holds more goroutines than its ceiling, and checks that the liveness
// probe turns 503 naming app/api and where its goroutines wait, not
// app/debug, which stays under its own; and that the log named the owner
// first.
func TestLivezFailsPastTheCeiling(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0", "-max-goroutines", "50", "-sample", "50ms")
	cmd.Env = append(os.Environ(), "RUN_EXAMPLE=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var stderr strings.Builder
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return stderr.Write(p)
	})
	log := func() string { mu.Lock(); defer mu.Unlock(); return stderr.String() }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	var api, debug string
	sc := bufio.NewScanner(stdout)
	for (api == "" || debug == "") && sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "api listening on "); ok {
			api = a
		}
		if a, ok := strings.CutPrefix(sc.Text(), "debug listening on "); ok {
			debug = a
		}
	}
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited: // exit code 3: the leaked goroutines are reported stuck
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
				t.Errorf("example exited with %v; want exit status 3, the leaked goroutines reported stuck", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("example did not stop within 10s of SIGTERM")
		}
	}()
	if api == "" || debug == "" {
		t.Fatalf("example did not announce its addresses; stderr:\n%s", log())
	}

	if code, body := probe(t, debug); code != http.StatusOK {
		t.Fatalf("livez before any leak = %d %q; want 200", code, body)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				resp, err := http.Get("http://" + api + "/leak")
				if err != nil {
					t.Error(err) // not Fatal: this is not the test's goroutine
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				if err := resp.Body.Close(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	deadline := time.Now().Add(10 * time.Second)
	// The example samples on its own clock: poll its probe, bounded.
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		code, body := probe(t, debug)
		if code == http.StatusServiceUnavailable {
			if !strings.Contains(body, `app/api goroutine limit: shepherd: "app/api" holds `) || !strings.Contains(body, "past its MaxGoroutines of 50") ||
				!strings.Contains(body, "(app/api/leak) wait in github.com/shepherd-go/shepherd/examples/leak-hunt.leak.func1") {
				t.Errorf("livez 503 body = %q; want app/api named, with where its goroutines wait", body)
			}
			if strings.Contains(body, "app/debug") {
				t.Errorf("livez names app/debug, which is under its ceiling: %q", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("livez still %d %q 10s after 80 leaks past a ceiling of 50", code, body)
		}
		<-poll.C
	}
	if l := log(); !strings.Contains(l, `msg="shepherd: goroutine limit" path=app/api`) {
		t.Errorf("the log does not name app/api's goroutine limit:\n%s", l)
	}
}

func probe(t *testing.T, debug string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + debug + "/livez")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err := errors.Join(err, resp.Body.Close()); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
