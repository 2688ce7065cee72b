package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain runs the example itself when asked to, so the test can run it
// as a child process for Prometheus to scrape.
func TestMain(m *testing.M) {
	if os.Getenv("RUN_EXAMPLE") == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// TestPrometheusScrapesTheTree starts the example and a real Prometheus
// server on loopback that scrapes its /metrics every 200ms, sends traffic
// through the pool and makes app/flaky fail once, and asks Prometheus'
// HTTP API for the series until they show both.
func TestPrometheusScrapesTheTree(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus is not installed; CI installs it with apt-get install prometheus")
		}
		t.Skip("prometheus is not installed (apt-get install prometheus)")
	}
	api, debug := startExample(t)
	prom := startPrometheus(t, promBin, debug)

	for range 20 {
		httpGet(t, "http://"+api+"/work")
	}
	httpGet(t, "http://"+api+"/crash")

	for _, q := range []struct{ query, want string }{
		{`shepherd_service_restarts_total{path="app/flaky"}`, "1"},
		{`shepherd_failures_total{path="app/flaky",kind="error"}`, "1"},
		{`shepherd_pool_items_total{path="app/work",outcome="done"}`, "20"},
		{`shepherd_pool_handle_seconds_count{path="app/work"}`, "20"},
		{`shepherd_service_state{path="app/flaky",state="running"}`, "1"},
	} {
		waitForSeries(t, prom, q.query, q.want)
	}
}

// startExample runs the example on free loopback ports and returns the
// addresses it announces; the test's cleanup stops it with SIGTERM.
func startExample(t *testing.T) (api, debug string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "RUN_EXAMPLE=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
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
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-exited; err != nil {
			t.Errorf("example exited with %v; stderr:\n%s", err, &stderr)
		}
	})
	if api == "" || debug == "" {
		t.Fatalf("example did not announce its addresses; stderr:\n%s", &stderr)
	}
	return api, debug
}

// startPrometheus runs Prometheus on a free loopback port with a scrape
// config for target, waits until it is ready, and returns its address.
func startPrometheus(t *testing.T, bin, target string) string {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf("global:\n  scrape_interval: 200ms\n  scrape_timeout: 200ms\nscrape_configs:\n  - job_name: example\n    static_configs:\n      - targets: [%q]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", &out)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr
			}
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited before it was ready:\n%s", &out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30s:\n%s", &out)
		}
	}
}

// waitForSeries queries Prometheus until query returns one sample equal to
// want, for up to 30 seconds.
func waitForSeries(t *testing.T, prom, query, want string) {
	t.Helper()
	var last string
	deadline := time.Now().Add(30 * time.Second)
	// Prometheus scrapes on its own clock: poll its API, bounded.
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + prom + "/api/v1/query?query=" + url.QueryEscape(query))
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Status string
			Data   struct {
				Result []struct {
					Metric map[string]string
					Value  [2]any
				}
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("query %s: %v", query, err)
		}
		last = fmt.Sprintf("%+v", r.Data.Result)
		if len(r.Data.Result) == 1 && r.Data.Result[0].Value[1] == want {
			return
		}
		<-poll.C
	}
	t.Errorf("Prometheus query %s = %s; want one sample of %s", query, last, want)
}

func httpGet(t *testing.T, u string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
