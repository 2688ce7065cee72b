package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
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
	debug    string
	stderr   *strings.Builder
	exited   chan struct{}
	exitCode int
}

// start runs the example on free loopback ports and waits until it
// announces both addresses.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0"}, args...)...)
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
	for (p.api == "" || p.debug == "") && sc.Scan() {
		line := sc.Text()
		if a, ok := strings.CutPrefix(line, "api listening on "); ok {
			p.api = a
		}
		if a, ok := strings.CutPrefix(line, "debug listening on "); ok {
			p.debug = a
		}
	}
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		p.exitCode = cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	if p.api == "" || p.debug == "" {
		<-p.exited
		t.Fatalf("example did not announce its addresses; stderr:\n%s", p.stderr)
	}
	return p
}

func (p *proc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.exitCode
	case <-time.After(within):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("example did not exit within %v; stderr:\n%s", within, p.stderr)
		return -1
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSIGTERMDrainsAndClosesBothPorts(t *testing.T) {
	p := start(t, "-shutdown", "10s")
	if code, body := get(t, "http://"+p.api+"/ping"); code != 200 || body != "pong\n" {
		t.Fatalf("/ping = %d %q; want 200 pong", code, body)
	}
	if code, _ := get(t, "http://"+p.debug+"/debug/pprof/"); code != 200 {
		t.Fatalf("pprof index = %d; want 200", code)
	}
	if code, tree := get(t, "http://"+p.debug+"/debug/shepherd"); code != 200 || !strings.Contains(tree, "app/api") || !strings.Contains(tree, "running") {
		t.Fatalf("/debug/shepherd = %d:\n%s\nwant the live tree, app/api running", code, tree)
	}

	// A slow request in flight when SIGTERM arrives must complete.
	type result struct {
		code int
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + p.api + "/slow?d=700ms")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		slow <- result{resp.StatusCode, string(b), err}
	}()
	// Wait until the server holds the request, seen in the goroutine
	// profile the debug server serves.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, prof := get(t, "http://"+p.debug+"/debug/pprof/goroutine?debug=1")
		if strings.Contains(prof, "apiHandler.func2") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slow request never reached the handler:\n%s", prof)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-slow
	if r.err != nil || r.code != 200 || r.body != "done after 700ms\n" {
		t.Fatalf("slow request during drain = %d %q, %v; want 200", r.code, r.body, r.err)
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d; want 0; stderr:\n%s", code, p.stderr)
	}
	for _, addr := range []string{p.api, p.debug} {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			t.Errorf("%s still accepts connections after exit", addr)
		}
	}
	log := p.stderr.String()
	for _, want := range []string{`msg="shepherd: stopping" path=app/api`, `msg="shepherd: stopped" path=app/debug`, `msg="shepherd: stopped cleanly"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
}

func TestDebugPortTakenStopsEverything(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()
	cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0", "-debug-addr", busy.Addr().String())
	cmd.Env = append(os.Environ(), "RUN_EXAMPLE=1")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit code %d (%v); want 1; output:\n%s", code, err, out)
	}
	if !strings.Contains(string(out), `task \"app/debug\": listen tcp`) {
		t.Fatalf("output does not name the failed service:\n%s", out)
	}
	if strings.Contains(string(out), "api listening") {
		t.Fatalf("the API started although the debug server before it failed:\n%s", out)
	}
}
