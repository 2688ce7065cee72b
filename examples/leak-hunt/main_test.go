package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain runs the example itself when asked to, so the test can run it
// as a child process: the example leaks on purpose, which goleak would
// rightly reject inside the test binary.
func TestMain(m *testing.M) {
	if os.Getenv("RUN_EXAMPLE") == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// node is a node of the debug page's JSON form.
type node struct {
	Path       string `json:"path"`
	State      string `json:"state"`
	Goroutines []struct {
		Path   string `json:"path"`
		Count  int    `json:"count"`
		Frames []struct {
			Function string `json:"function"`
		} `json:"frames"`
	} `json:"goroutines"`
	Children []node `json:"children"`
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d, %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// TestDebugPageNamesTheLeak hits /leak a few times and finds every leaked
// goroutine on the debug page, attributed to the route that leaked it and
// blocked in the seed's goroutine.
func TestDebugPageNamesTheLeak(t *testing.T) {
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
	if api == "" || debug == "" {
		err := <-exited
		t.Fatalf("example did not announce its addresses (exit: %v); stderr:\n%s", err, stderr.String())
	}
	// Stopped, the server leaves the leaked goroutines behind: after the
	// shutdown budget they are reported stuck, with their owner, and the
	// exit code says so.
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if code := cmd.ProcessState.ExitCode(); code != 3 {
				t.Errorf("exit code %d (%v); want 3 (stuck); stderr:\n%s", code, err, stderr.String())
			}
			if want := "5 goroutines owned by app/api/leak"; !strings.Contains(stderr.String(), want) {
				t.Errorf("stuck report lacks %q; stderr:\n%s", want, stderr.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("example did not stop within 10s of SIGTERM")
		}
	}()

	const leaks = 5
	for range leaks {
		if body := get(t, "http://"+api+"/leak"); body != "will leak\n" {
			t.Fatalf("/leak = %q", body)
		}
	}
	// Each handler starts its goroutine before it answers, so all of them
	// are on the page by now.
	var page struct{ Roots []node }
	if err := json.Unmarshal([]byte(get(t, "http://"+debug+"/debug/shepherd?format=json")), &page); err != nil {
		t.Fatal(err)
	}
	var apiNode *node
	for i, c := range page.Roots[0].Children {
		if c.Path == "app/api" {
			apiNode = &page.Roots[0].Children[i]
		}
	}
	if apiNode == nil || apiNode.State != "running" {
		t.Fatalf("no running app/api on the page: %+v", page.Roots)
	}
	leaked := 0
	for _, g := range apiNode.Goroutines {
		if g.Path == "app/api/leak" {
			// In the test binary, package main is named by its import path.
			if len(g.Frames) == 0 || !strings.HasSuffix(g.Frames[0].Function, ".leak.func1") {
				t.Errorf("goroutine of app/api/leak at %+v; want leak.func1 on top", g.Frames)
			}
			leaked += g.Count
		}
	}
	if leaked != leaks {
		t.Errorf("goroutines of app/api/leak under app/api = %d; want %d: %+v", leaked, leaks, apiNode.Goroutines)
	}

	text := get(t, "http://"+debug+"/debug/shepherd")
	if want := "  app/api  service  running"; !strings.Contains(text, want) {
		t.Errorf("text form lacks %q:\n%s", want, text)
	}
	if want := fmt.Sprintf("      %d goroutines of app/api/leak\n          waiting: %d chan receive, <1m\n        > github.com/shepherd-go/shepherd/examples/leak-hunt.leak.func1  ", leaks, leaks); !strings.Contains(text, want) {
		t.Errorf("text form lacks %q:\n%s", want, text)
	}
}
