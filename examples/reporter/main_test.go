package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain runs the example itself when asked to, so tests can run it as a
// child process and signal it like an operator would.
func TestMain(m *testing.M) {
	if os.Getenv("RUN_EXAMPLE") == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

type proc struct {
	cmd      *exec.Cmd
	api      string
	stderr   *strings.Builder
	mu       sync.Mutex
	stdout   []string
	exited   chan struct{}
	exitCode int
}

// start runs the example on a free loopback port and waits until it
// announces its address.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "RUN_EXAMPLE=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: new(strings.Builder), exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for p.api == "" && sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "api listening on "); ok {
			p.api = a
		}
	}
	go func() {
		for sc.Scan() {
			p.mu.Lock()
			p.stdout = append(p.stdout, sc.Text())
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		p.exitCode = cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	if p.api == "" {
		<-p.exited
		t.Fatalf("example did not announce its address; stderr:\n%s", p.stderr)
	}
	return p
}

func (p *proc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.exitCode
	case <-time.After(within):
		if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("killing the example: %v", err)
		}
		<-p.exited
		t.Fatalf("example did not exit within %v; stderr:\n%s", within, p.stderr)
		return -1
	}
}

// ping sends n requests, one after the other; each is answered once its
// report is queued.
func ping(t *testing.T, api string, n int) {
	t.Helper()
	for range n {
		resp, err := http.Get("http://" + api + "/ping")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if err := errors.Join(err, resp.Body.Close()); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || string(b) != "pong\n" {
			t.Fatalf("/ping = %d %q; want 200 pong", resp.StatusCode, b)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

// counts returns the counters of the log line with the given message.
func counts(t *testing.T, log, msg string) map[string]int {
	t.Helper()
	line := regexp.MustCompile(`(?m)^.*msg="` + regexp.QuoteMeta(msg) + `" path=app/reports .*$`).FindString(log)
	if line == "" {
		t.Fatalf("log lacks %q for app/reports:\n%s", msg, log)
	}
	m := map[string]int{}
	for _, kv := range regexp.MustCompile(`(\w+)=(\d+)`).FindAllStringSubmatch(line, -1) {
		m[kv[1]], _ = strconv.Atoi(kv[2])
	}
	return m
}

func TestSIGTERMDrainsTheQueue(t *testing.T) {
	p := start(t, "-workers", "1", "-report-time", "300ms", "-shutdown", "10s")
	ping(t, p.api, 6) // 6 reports of 300ms on 1 worker: 1.8s of work queued
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d; want 0; stderr:\n%s", code, p.stderr)
	}
	log := p.stderr.String()
	draining := counts(t, log, "shepherd: pool draining")
	if draining["submitted"] != 6 || draining["queued"]+draining["in_flight"] == 0 {
		t.Errorf("when the drain began: %v; want 6 submitted, some still queued or in flight", draining)
	}
	stopped := counts(t, log, "shepherd: pool stopped")
	if stopped["done"] != 6 || stopped["queued"] != 0 || stopped["handed_back"] != 0 {
		t.Errorf("when the pool stopped: %v; want all 6 done", stopped)
	}
	p.mu.Lock()
	sent := strings.Count(strings.Join(p.stdout, "\n"), "report: ping pong")
	p.mu.Unlock()
	if sent != 6 {
		t.Errorf("%d reports sent; want 6", sent)
	}
	// The server stops before the pool it feeds.
	api := strings.Index(log, `msg="shepherd: stopped" path=app/api`)
	pool := strings.Index(log, `msg="shepherd: stopping" path=app/reports`)
	if api < 0 || pool < 0 || api > pool {
		t.Errorf("want app/api stopped before app/reports begins to stop:\n%s", log)
	}
}

func TestShortBudgetHandsReportsBack(t *testing.T) {
	p := start(t, "-workers", "1", "-report-time", "1h", "-shutdown", "500ms")
	ping(t, p.api, 5) // one in flight, four queued
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d; want 0: every report not sent was handed back; stderr:\n%s", code, p.stderr)
	}
	log := p.stderr.String()
	stopped := counts(t, log, "shepherd: pool stopped")
	if stopped["submitted"] != 5 || stopped["failed"] != 0 || stopped["handed_back"] != 5 || stopped["interrupted"] != 1 {
		t.Errorf("when the pool stopped: %v; want all 5 handed back, the 1 cut short in flight among them", stopped)
	}
	if n := strings.Count(log, "report not sent before shutdown"); n != 5 {
		t.Errorf("%d reports handed back in the log; want 5:\n%s", n, log)
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("a shutdown's cancellation logged as an error:\n%s", log)
	}
}

// TestSIGTERMUnderLoadLosesNoReport drives the example with concurrent
// clients on loopback, sends SIGTERM in the middle of the load, with a
// shutdown budget of 1s, far less than the queued work needs: every report
// answered with 200 must have been sent or handed back, and the pool's
// books must agree with what the program printed.
func TestSIGTERMUnderLoadLosesNoReport(t *testing.T) {
	p := start(t, "-workers", "2", "-queue", "100", "-report-time", "100ms", "-wait", "100ms", "-shutdown", "1s")
	const clients = 16
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: clients},
		Timeout:   30 * time.Second,
	}
	defer client.CloseIdleConnections()
	var ok200, other atomic.Int64
	loaded := make(chan struct{})
	var loadedOnce sync.Once
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				resp, err := client.Get("http://" + p.api + "/ping")
				if err != nil {
					return // the server has closed: the load ends
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				if err := resp.Body.Close(); err != nil {
					t.Error(err)
					return
				}
				if resp.StatusCode != http.StatusOK {
					other.Add(1)
					continue
				}
				// 100 fill the queue at once; the rest come as the
				// workers make room, five a second each.
				if ok200.Add(1) == 120 {
					loadedOnce.Do(func() { close(loaded) })
				}
			}
		}()
	}
	select {
	case <-loaded:
	case <-p.exited:
		t.Fatalf("example exited under load; stderr:\n%s", p.stderr)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t, 15*time.Second)
	wg.Wait()
	log := p.stderr.String()
	if code != 0 {
		t.Fatalf("exit code %d; want 0: nothing was lost; stderr:\n%s", code, log)
	}
	p.mu.Lock()
	sent := strings.Count(strings.Join(p.stdout, "\n"), "report: ping pong")
	p.mu.Unlock()
	handedBack := strings.Count(log, "report not sent before shutdown")
	stopped := counts(t, log, "shepherd: pool stopped")
	t.Logf("answered 200: %d, otherwise: %d; sent %d, handed back %d; pool: %v", ok200.Load(), other.Load(), sent, handedBack, stopped)
	if int64(sent+handedBack) < ok200.Load() {
		t.Errorf("%d reports answered 200 but only %d sent and %d handed back: reports were lost", ok200.Load(), sent, handedBack)
	}
	if stopped["submitted"] != sent+handedBack || stopped["done"] != sent || stopped["handed_back"] != handedBack || stopped["failed"] != 0 {
		t.Errorf("the pool counted %v; the program sent %d and handed back %d: each accepted report must be one or the other, once", stopped, sent, handedBack)
	}
	if handedBack == 0 {
		t.Errorf("nothing handed back: the budget was meant to run out with reports still queued")
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("an error was logged; a shutdown's cancellations are not failures:\n%s", log)
	}
}
