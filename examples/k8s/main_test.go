package main

import (
	"bufio"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain runs the example itself when asked to, so tests can run it as a
// child process and send it SIGTERM like the kubelet does.
func TestMain(m *testing.M) {
	if os.Getenv("RUN_EXAMPLE") == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

func TestManifestMatchesProgram(t *testing.T) {
	b, err := os.ReadFile("deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	manifest := string(b)
	number := func(key string, after string) int {
		t.Helper()
		rest := manifest[strings.Index(manifest, after):]
		m := regexp.MustCompile(`(?m)^\s*` + key + `:\s*(\d+)\s*$`).FindStringSubmatch(rest)
		if m == nil {
			t.Fatalf("deployment.yaml: no %s after %q", key, after)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}

	// The container's args must parse with the program's own flags and
	// equal its defaults, so the two cannot drift apart.
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := fs.String("addr", "", "")
	debugAddr := fs.String("debug-addr", "", "")
	shutdown := fs.Duration("shutdown", 0, "")
	drain := fs.Duration("drain-delay", 0, "")
	var args []string
	for _, m := range regexp.MustCompile(`(?m)^\s*- (-[a-z-]+=\S+)\s*$`).FindAllStringSubmatch(manifest, -1) {
		args = append(args, m[1])
	}
	if err := fs.Parse(args); err != nil {
		t.Fatalf("deployment.yaml args %q: %v", args, err)
	}
	if *addr != defaultAddr || *debugAddr != defaultDebugAddr || *shutdown != defaultShutdown || *drain != defaultDrainDelay {
		t.Fatalf("manifest args %q differ from main.go's defaults", args)
	}

	grace := time.Duration(number("terminationGracePeriodSeconds", "spec:")) * time.Second
	if grace < *shutdown+2*time.Second {
		t.Errorf("terminationGracePeriodSeconds %v leaves less than 2s over the %v shutdown budget: SIGKILL could cut the drain", grace, *shutdown)
	}
	period := time.Duration(number("periodSeconds", "readinessProbe:")) * time.Second
	failures := number("failureThreshold", "readinessProbe:")
	if detect := period * time.Duration(failures); *drain < detect+time.Second {
		t.Errorf("drain delay %v is shorter than the readiness probe's detection time %v plus 1s for endpoints to update", *drain, detect)
	}
	if *drain >= *shutdown {
		t.Errorf("drain delay %v must be less than the shutdown budget %v", *drain, *shutdown)
	}
	_, debugPort, _ := net.SplitHostPort(*debugAddr)
	for _, probe := range []string{"readinessProbe:", "livenessProbe:"} {
		if p := number("port", probe); strconv.Itoa(p) != debugPort {
			t.Errorf("%s port %d; the program serves probes on %s", probe, p, debugPort)
		}
	}
	_, apiPort, _ := net.SplitHostPort(*addr)
	if p := number("containerPort", "ports:"); strconv.Itoa(p) != apiPort {
		t.Errorf("first containerPort %d; the API listens on %s", p, apiPort)
	}
}

// A timed observation by one of the pollers.
type mark struct {
	sent, at time.Time // request sent, answer (or error) received
	ok       bool      // 200
	err      error
}

// poll GETs url on a fresh connection every few milliseconds until the
// connection is refused or the bound passes, returning what it saw. It
// closes up after its first 200.
func poll(url string, bound time.Duration, up chan<- struct{}) []mark {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var marks []mark
	for end := time.Now().Add(bound); time.Now().Before(end); <-tick.C {
		sent := time.Now()
		resp, err := client.Get(url)
		m := mark{sent: sent, at: time.Now(), err: err}
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			m.ok = resp.StatusCode == http.StatusOK
		}
		marks = append(marks, m)
		if m.ok && up != nil {
			close(up)
			up = nil
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return marks
		}
	}
	return marks
}

func TestRollingUpdateTimeline(t *testing.T) {
	const drain, budget = 1500 * time.Millisecond, 6 * time.Second
	cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0",
		"-shutdown", budget.String(), "-drain-delay", drain.String())
	cmd.Env = append(os.Environ(), "RUN_EXAMPLE=1")
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
	exited := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, stdout); _ = cmd.Wait(); close(exited) }()
	if api == "" || debug == "" {
		<-exited
		t.Fatalf("no addresses announced; stderr:\n%s", stderr.String())
	}

	var wg sync.WaitGroup
	var ready, pings []mark
	readyUp, pingUp := make(chan struct{}), make(chan struct{})
	wg.Go(func() { ready = poll("http://"+debug+"/readyz", 15*time.Second, readyUp) })
	wg.Go(func() { pings = poll("http://"+api+"/ping", 15*time.Second, pingUp) })
	<-readyUp
	<-pingUp
	sigterm := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(budget + 5*time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("did not exit within the budget; stderr:\n%s", stderr.String())
	}
	exitedAt := time.Now()
	wg.Wait()

	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d; want 0; stderr:\n%s", code, stderr.String())
	}
	if d := exitedAt.Sub(sigterm); d < drain || d > budget+time.Second {
		t.Errorf("exited %v after SIGTERM; want between the %v drain delay and the %v budget", d, drain, budget)
	}
	var flip time.Time
	for _, m := range ready {
		if m.at.After(sigterm) && m.err == nil && !m.ok {
			flip = m.at
			break
		}
	}
	last := pings[len(pings)-1]
	if flip.IsZero() || !errors.Is(last.err, syscall.ECONNREFUSED) {
		t.Fatalf("readiness never answered 503 after SIGTERM (%v) or the API never refused (%v)", flip, last.err)
	}
	if !flip.Before(last.at) {
		t.Fatalf("readiness flipped at %v, not before the API listener closed at %v", flip.Sub(sigterm), last.at.Sub(sigterm))
	}
	// Every request sent during the drain delay succeeds. The delay is
	// timed from the process receiving SIGTERM, a little after sigterm, and
	// margin absorbs a loaded machine's scheduling. A request sent as the
	// listener closes may find its connection accepted by the kernel but
	// never by the server, and fail with EOF or a reset: that is the race
	// the drain delay exists to keep real traffic out of, and the load
	// balancer, unlike this poller, has stopped sending by then.
	const margin = 100 * time.Millisecond
	servedInDrain, caughtClosing := 0, 0
	for _, m := range pings[:len(pings)-1] {
		switch {
		case m.ok:
			if m.at.After(flip) {
				servedInDrain++
			}
		case m.sent.Before(sigterm.Add(drain - margin)):
			t.Fatalf("a request sent %v after SIGTERM, during the drain delay, failed: %v", m.sent.Sub(sigterm), m.err)
		case errors.Is(m.err, io.EOF) || errors.Is(m.err, syscall.ECONNRESET):
			caughtClosing++
		default:
			t.Fatalf("a request sent %v after SIGTERM failed: %v", m.sent.Sub(sigterm), m.err)
		}
	}
	if servedInDrain == 0 {
		t.Fatal("no request was served between readiness flipping and the listener closing")
	}
	for _, addr := range []string{api, debug} {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			t.Errorf("%s accepts connections after exit", addr)
		}
	}
	t.Logf("SIGTERM+%v readiness 503; API served %d requests while draining; %d caught by the listener closing; API refused at +%v; exit at +%v",
		flip.Sub(sigterm).Round(time.Millisecond), servedInDrain, caughtClosing, last.at.Sub(sigterm).Round(time.Millisecond), exitedAt.Sub(sigterm).Round(time.Millisecond))
}
