package shepherd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/shepherdtest"
)

// chromium returns the path of a Chromium binary. Without one the test is
// skipped on a developer's machine, but fails under CI, whose script
// installs it: a browser test that silently never runs proves nothing.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs the Debian package chromium")
	}
	t.Skip("chromium is not installed (Debian: apt-get install chromium)")
	return ""
}

// browse runs headless Chromium on url with the given action flag
// (--dump-dom, --screenshot=…) and returns its standard output and the
// console messages of the page, which Chromium logs to standard error.
func browse(t *testing.T, bin, url string, action ...string) (stdout string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
	}, action...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(action, " "), err, errOut.String())
	}
	for _, l := range strings.Split(errOut.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return out.String(), console
}

// TestDebugPageInChromium renders the HTML form of a tree with running,
// restarting and failed nodes and goroutines of its own in a real browser:
// the page must show every node, log nothing to the console, and fetch
// nothing but itself.
func TestDebugPageInChromium(t *testing.T) {
	bin := chromium(t)
	defer shepherdtest.VerifyNone(t)

	release := make(chan struct{})
	failNow := make(chan struct{})
	failing := func(err error) shepherd.ServiceFunc {
		return func(ctx context.Context) error {
			select {
			case <-failNow:
				return err
			case <-ctx.Done():
				return nil
			}
		}
	}
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(5*time.Second))
	later := shepherd.Backoff{Min: time.Hour, Max: time.Hour}
	sup.Add("db", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
	sup.Add("poller", failing(errors.New("dial tcp 10.0.0.7:5432: connection refused")), shepherd.Restart(shepherd.OnFailure), later)
	batch := shepherd.NewSupervisor("batch")
	batch.Add("import", failing(errors.New("orders.csv line 7: <bad> quote")))
	sup.Add("batch", batch, shepherd.Restart(shepherd.OnFailure), later)
	sup.Add("worker", shepherd.ServiceFunc(func(ctx context.Context) error {
		for range 3 {
			go blockedInTask(release) // raw go statements: the leak the page shows
		}
		g := shepherd.NewGroup(ctx)
		g.Go("fetch", func(ctx context.Context) error { <-ctx.Done(); return nil })
		<-ctx.Done()
		return g.Wait()
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	defer func() {
		close(release)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	eventually(t, func() bool { return sup.Snapshot().Children[3].State == shepherd.StateRunning })
	close(failNow)
	eventually(t, func() bool {
		want := []string{"running", "restarting", "restarting", "running"}
		var got []string
		for _, c := range sup.Snapshot().Children {
			got = append(got, c.State.String())
		}
		return slices.Equal(got, want)
	})

	var mu sync.Mutex
	var requested []string
	mux := http.NewServeMux()
	mux.Handle("/debug/shepherd", shepherd.DebugHandler(sup))
	// A page that breaks the rules, served under the same policy: it shows
	// that console messages and blocked loads do reach the test.
	mux.HandleFunc("/planted", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		if _, err := fmt.Fprint(w, `<!doctype html><title>x</title><link rel="stylesheet" href="/style.css"><p>planted</p>`); err != nil {
			t.Errorf("serving /planted: %v", err)
		}
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requested = append(requested, r.URL.Path)
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()

	if _, console := browse(t, bin, srv.URL+"/planted", "--dump-dom"); len(console) == 0 {
		t.Fatal("the planted page's blocked stylesheet left no console message: the check below would prove nothing")
	}

	page := srv.URL + "/debug/shepherd?format=html"
	dom, console := browse(t, bin, page, "--dump-dom")
	if len(console) > 0 {
		t.Errorf("console messages on the debug page:\n%s", strings.Join(console, "\n"))
	}
	for _, want := range []string{
		`<span class="path">app</span><span class="kind">supervisor</span><span class="state">running</span>`,
		`<section class="node st-running">`,
		`<span class="path">app/poller</span><span class="kind">service</span><span class="state">restarting</span>`,
		`<span class="fact">restarts <b>1</b></span>`,
		`last error: task "app/poller": dial tcp 10.0.0.7:5432: connection refused`,
		`<span class="path">app/batch/import</span><span class="kind">service</span><span class="state">failed</span>`,
		`orders.csv line 7: &lt;bad&gt; quote`,
		`<span class="n">3 ×</span>`,
		`<span class="owner">app/worker/fetch</span>`,
		`<mark>github.com/shepherd-go/shepherd_test.blockedInTask`,
		`<details class="plumbing"><summary>`,
		`unowned: goroutines without a shepherd label`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %s", want)
		}
	}
	if n := len(regexp.MustCompile(`<section class="node`).FindAllString(dom, -1)); n != 6 {
		t.Errorf("rendered page has %d nodes; want 6: app, its 4 services and the one of batch\n%s", n, dom)
	}

	shot := os.Getenv("SHEPHERD_DEBUG_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "debug-page.png")
	}
	_, console = browse(t, bin, page, "--screenshot="+shot, "--window-size=1280,1100", "--hide-scrollbars")
	if len(console) > 0 {
		t.Errorf("console messages while taking the screenshot:\n%s", strings.Join(console, "\n"))
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	if cerr := f.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 1100 {
		t.Errorf("screenshot is %v; want 1280x1100", b)
	}
	t.Logf("screenshot: %s", shot)

	mu.Lock()
	defer mu.Unlock()
	for _, p := range requested {
		if p != "/debug/shepherd" && p != "/planted" && p != "/style.css" {
			t.Errorf("the browser fetched %s: the page is not self-contained", p)
		}
	}
	if slices.Contains(requested, "/style.css") {
		t.Errorf("the policy did not stop the planted page's stylesheet: the page's own policy would not either")
	}
}
