package shepherd_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// debugJSON is the JSON form of the debug page, as a client decodes it.
type debugJSON struct {
	Time    time.Time         `json:"time"`
	Roots   []debugJSONNode   `json:"roots"`
	Other   []debugJSONStacks `json:"other"`
	Unowned []debugJSONStacks `json:"unowned"`
	Total   int               `json:"total_goroutines"`

	LeakProfile bool `json:"leak_profile"`
	Leaked      int  `json:"leaked_goroutines"`
}

type debugJSONNode struct {
	Path       string              `json:"path"`
	Kind       string              `json:"kind"`
	State      string              `json:"state"`
	Since      *time.Time          `json:"since"`
	Started    *time.Time          `json:"started"`
	Restarts   int                 `json:"restarts"`
	LastErr    string              `json:"last_error"`
	Stats      *shepherd.PoolStats `json:"stats"`
	Goroutines []debugJSONStacks   `json:"goroutines"`
	Leaked     int                 `json:"leaked_goroutines"`
	Children   []debugJSONNode     `json:"children"`
}

type debugJSONStacks struct {
	Path     string `json:"path"`
	Count    int    `json:"count"`
	Leaked   int    `json:"leaked"`
	Tasks    int    `json:"tasks"`
	LastPath string `json:"last_path"`
	Plumbing bool   `json:"plumbing"`
	Waits    []struct {
		Reason  string `json:"reason"`
		Count   int    `json:"count"`
		Longest int64  `json:"longest_wait_seconds"`
	} `json:"waits"`
	Frames []struct {
		Function string `json:"function"`
		File     string `json:"file"`
		Line     int    `json:"line"`
		Program  bool   `json:"program"`
	} `json:"frames"`
}

// get serves one request to h and returns the response.
func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func debugText(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := get(t, h, "GET", "/debug/shepherd?goroutines=0")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("GET ?goroutines=0 = %d %q; want 200 text/plain", rec.Code, rec.Header().Get("Content-Type"))
	}
	return rec.Body.String()
}

func debugTree(t *testing.T, h http.Handler, query string) debugJSON {
	t.Helper()
	rec := get(t, h, "GET", "/debug/shepherd?format=json"+query)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET ?format=json = %d %q; want 200 application/json", rec.Code, rec.Header().Get("Content-Type"))
	}
	var page debugJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatalf("decoding the JSON form: %v\n%s", err, rec.Body)
	}
	return page
}

// jsonLines renders decoded JSON nodes the way the text form shows them
// (without ages), one line per node and one per last error.
func jsonLines(nodes []debugJSONNode, where *regexp.Regexp) []string {
	var out []string
	for _, n := range nodes {
		line := strings.Repeat("  ", strings.Count(n.Path, "/")) + n.Path + "  " + n.Kind + "  " + n.State
		if n.Restarts > 0 {
			line += "  restarts " + strconv.Itoa(n.Restarts)
		}
		out = append(out, line)
		if n.LastErr != "" {
			out = append(out, "last error: "+where.ReplaceAllString(n.LastErr, " at debug_test.go"))
		}
		out = append(out, jsonLines(n.Children, where)...)
	}
	return out
}

// textLines returns the node lines of the text form without their ages,
// and the last errors without their indentation.
func textLines(text string) []string {
	var out []string
	age := regexp.MustCompile(` for \S+`)
	for _, l := range strings.Split(text, "\n")[2:] {
		switch {
		case l == "":
		case strings.HasPrefix(strings.TrimSpace(l), "last error: "):
			out = append(out, strings.TrimSpace(l))
		default:
			out = append(out, age.ReplaceAllString(l, ""))
		}
	}
	return out
}

// blockingStopper is a service whose Stop waits for release.
type blockingStopper struct{ release chan struct{} }

func (s blockingStopper) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (s blockingStopper) Stop(ctx context.Context) error {
	<-s.release
	return nil
}

// TestDebugTreeThroughLifecycle follows one tree through start, a
// failure, a restart, a fatal failure and the stop it causes, and checks
// that the text and JSON forms show each node's state at every step.
func TestDebugTreeThroughLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ready := make(chan struct{})
		flaky := make(chan error)
		fatal := make(chan error)
		release := make(chan struct{})
		defer close(release)
		sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(10*time.Second))
		sup.Add("db", shepherd.ServiceFunc(func(ctx context.Context) error {
			<-ready
			shepherd.Ready(ctx)
			<-ctx.Done()
			return nil
		}), shepherd.AwaitReady(30*time.Second))
		sup.Add("flaky", shepherd.ServiceFunc(func(ctx context.Context) error {
			select {
			case err := <-flaky:
				return err
			case <-ctx.Done():
				return nil
			}
		}), shepherd.Restart(shepherd.OnFailure), shepherd.Backoff{Min: 3 * time.Second, Max: 3 * time.Second})
		sup.Add("web", blockingStopper{release})
		sup.Add("job", shepherd.ServiceFunc(func(ctx context.Context) error {
			select {
			case err := <-fatal:
				return err
			case <-ctx.Done():
				return nil
			}
		}))
		sub := shepherd.NewSupervisor("workers")
		sub.Add("poll", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
		sup.Add("workers", sub)
		h := shepherd.DebugHandler(sup)
		runErr := make(chan error, 1)

		type step struct {
			name  string
			do    func()
			text  string
			since string // when app/flaky entered its state, if it has one
			start string // when app/flaky's run started, if it has one
		}
		steps := []step{{
			name: "before Run",
			do:   func() {},
			text: `shepherd at 2000-01-01T00:00:00Z: 1 tree

app  supervisor  idle
  app/db  service  idle
  app/flaky  service  idle
  app/web  service  idle
  app/job  service  idle
  app/workers  supervisor  idle
    app/workers/poll  service  idle
`,
		}, {
			name: "db starting",
			do:   func() { go func() { runErr <- sup.Run(context.Background()) }() },
			text: `shepherd at 2000-01-01T00:00:00Z: 1 tree

app  supervisor  running for 0s
  app/db  service  starting for 0s
  app/flaky  service  idle
  app/web  service  idle
  app/job  service  idle
  app/workers  supervisor  idle
    app/workers/poll  service  idle
`,
		}, {
			name: "all running",
			do: func() {
				time.Sleep(2 * time.Second)
				close(ready)
			},
			text: `shepherd at 2000-01-01T00:00:02Z: 1 tree

app  supervisor  running for 2s
  app/db  service  running for 0s
  app/flaky  service  running for 0s
  app/web  service  running for 0s
  app/job  service  running for 0s
  app/workers  supervisor  running for 0s
    app/workers/poll  service  running for 0s
`,
		}, {
			name:  "flaky failed, restarting",
			since: "2000-01-01T00:00:03Z",
			start: "2000-01-01T00:00:02Z", // the run that failed
			do: func() {
				time.Sleep(time.Second)
				flaky <- errors.New("connection refused")
			},
			text: `shepherd at 2000-01-01T00:00:03Z: 1 tree

app  supervisor  running for 3s
  app/db  service  running for 1s
  app/flaky  service  restarting for 0s  restarts 1
      last error: task "app/flaky": connection refused
  app/web  service  running for 1s
  app/job  service  running for 1s
  app/workers  supervisor  running for 1s
    app/workers/poll  service  running for 1s
`,
		}, {
			name:  "flaky restarted",
			do:    func() { time.Sleep(3 * time.Second) },
			since: "2000-01-01T00:00:06Z",
			start: "2000-01-01T00:00:06Z",
			text: `shepherd at 2000-01-01T00:00:06Z: 1 tree

app  supervisor  running for 6s
  app/db  service  running for 4s
  app/flaky  service  running for 0s  restarts 1
      last error: task "app/flaky": connection refused
  app/web  service  running for 4s
  app/job  service  running for 4s
  app/workers  supervisor  running for 4s
    app/workers/poll  service  running for 4s
`,
		}, {
			// job has no restart policy: its failure stops the tree in
			// reverse order, and web's Stop hangs.
			name: "job failed, stopping",
			do: func() {
				time.Sleep(time.Minute)
				fatal <- errors.New("disk full")
			},
			text: `shepherd at 2000-01-01T00:01:06Z: 1 tree

app  supervisor  stopping for 0s
  app/db  service  running for 1m4s
  app/flaky  service  running for 1m0s  restarts 1
      last error: task "app/flaky": connection refused
  app/web  service  stopping for 0s
  app/job  service  failed for 0s
      last error: task "app/job": disk full
  app/workers  supervisor  stopped for 0s
    app/workers/poll  service  stopped for 0s
`,
		}, {
			name: "web stuck, tree stopped",
			do:   func() { time.Sleep(10 * time.Second) },
			text: `shepherd at 2000-01-01T00:01:16Z: 1 tree

app  supervisor  stuck for 0s
    last error: task "app/job": disk full; shepherd: 1 service did not stop within the 10s shutdown budget: "app/web" (blocked in github.com/shepherd-go/shepherd_test.blockingStopper.Stop at debug_test.go)
  app/db  service  stopped for 0s
  app/flaky  service  stopped for 0s  restarts 1
      last error: task "app/flaky": connection refused
  app/web  service  stuck for 0s
      last error: shepherd: 1 service did not stop within the 10s shutdown budget: "app/web" (blocked in github.com/shepherd-go/shepherd_test.blockingStopper.Stop at debug_test.go)
  app/job  service  failed for 10s
      last error: task "app/job": disk full
  app/workers  supervisor  stopped for 10s
    app/workers/poll  service  stopped for 10s
`,
		}}
		// The stuck report names the line where Stop hangs.
		where := regexp.MustCompile(` at \S*debug_test\.go:\d+`)
		for _, s := range steps {
			s.do()
			synctest.Wait()
			got := where.ReplaceAllString(debugText(t, h), " at debug_test.go")
			if got != s.text {
				t.Fatalf("%s: text form =\n%s\nwant\n%s", s.name, got, s.text)
			}
			// The JSON form says the same, node for node.
			page := debugTree(t, h, "&goroutines=0")
			if want := time.Now().UTC(); !page.Time.Equal(want) {
				t.Errorf("%s: JSON time = %v; want %v", s.name, page.Time, want)
			}
			if got, want := jsonLines(page.Roots, where), textLines(s.text); !slices.Equal(got, want) {
				t.Fatalf("%s: JSON form =\n%s\nwant\n%s", s.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if flaky := page.Roots[0].Children[1]; s.since != "" && (flaky.Since == nil || flaky.Since.Format(time.RFC3339) != s.since) {
				t.Errorf("%s: JSON since of %s = %v; want %s", s.name, flaky.Path, flaky.Since, s.since)
			}
			if flaky := page.Roots[0].Children[1]; s.start != "" && (flaky.Started == nil || flaky.Started.Format(time.RFC3339) != s.start) {
				t.Errorf("%s: JSON started of %s = %v; want %s", s.name, flaky.Path, flaky.Started, s.start)
			}
		}
		var stuck *shepherd.StuckError
		if err := <-runErr; !errors.As(err, &stuck) || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("Run = %v; want the job's failure and web's *StuckError", err)
		}
	})
}

//go:noinline
func blockedInTask(release chan struct{}) { <-release }

//go:noinline
func blockedUnowned(release chan struct{}) { <-release }

// stacksIn returns the goroutine sets whose innermost frames include fn.
func stacksIn(sets []debugJSONStacks, fn string) []debugJSONStacks {
	var out []debugJSONStacks
	for _, s := range sets {
		for _, f := range s.Frames {
			if strings.HasSuffix(f.Function, "."+fn) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

func findNode(nodes []debugJSONNode, path string) *debugJSONNode {
	for i := range nodes {
		if nodes[i].Path == path {
			return &nodes[i]
		}
		if n := findNode(nodes[i].Children, path); n != nil {
			return n
		}
	}
	return nil
}

// TestDebugAttributesGoroutines checks where each goroutine is listed: a
// raw go statement inside a service under that service, the tasks of a
// Group inside a service under the service with their own path, labelled
// goroutines outside the tree under "other", the rest under "unowned".
func TestDebugAttributesGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		sup := shepherd.NewSupervisor("app")
		sup.Add("worker", shepherd.ServiceFunc(func(ctx context.Context) error {
			go blockedInTask(release) // a raw go statement: the leak to find
			g := shepherd.NewGroup(ctx)
			for range 3 {
				g.Go("fetch", func(ctx context.Context) error { blockedInTask(release); return nil })
			}
			<-ctx.Done()
			return g.Wait()
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		batch := shepherd.NewGroup(context.Background())
		batch.Go("batch", func(ctx context.Context) error { blockedInTask(release); return nil })
		go blockedUnowned(release)
		synctest.Wait()

		page := debugTree(t, shepherd.DebugHandler(sup), "")
		worker := findNode(page.Roots, "app/worker")
		if worker == nil {
			t.Fatalf("no node app/worker in %+v", page.Roots)
		}
		raw := stacksIn(worker.Goroutines, "blockedInTask")
		if len(raw) != 2 || raw[0].Path != "app/worker/fetch" || raw[0].Count != 3 || raw[1].Path != "app/worker" || raw[1].Count != 1 {
			t.Errorf("goroutines in blockedInTask under app/worker = %+v; want 3 of app/worker/fetch, then 1 of app/worker", raw)
		}
		if other := stacksIn(page.Other, "blockedInTask"); len(other) != 1 || other[0].Path != "batch" {
			t.Errorf("other = %+v; want the task batch", page.Other)
		}
		if unowned := stacksIn(page.Unowned, "blockedUnowned"); len(unowned) != 1 || unowned[0].Path != "" {
			t.Errorf("unowned = %+v; want the goroutine in blockedUnowned", page.Unowned)
		}
		total := 0
		for _, sets := range [][]debugJSONStacks{page.Other, page.Unowned, page.Roots[0].Goroutines, worker.Goroutines} {
			for _, s := range sets {
				total += s.Count
			}
		}
		if total != page.Total {
			t.Errorf("goroutines listed = %d; total_goroutines = %d", total, page.Total)
		}

		text := get(t, shepherd.DebugHandler(sup), "GET", "/").Body.String()
		for _, want := range []string{
			"\n  app/worker  service  running for 0s\n      3 goroutines of app/worker/fetch\n          waiting: 3 chan receive (durable), <1m\n        > github.com/shepherd-go/shepherd_test.blockedInTask  ",
			"\nother: goroutines of shepherd paths outside the trees\n",
			"\nunowned: goroutines without a shepherd label\n",
			"github.com/shepherd-go/shepherd_test.blockedUnowned  ",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("text form lacks %q:\n%s", want, text)
			}
		}

		close(release)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := batch.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDebugHTML(t *testing.T) {
	sup := shepherd.NewSupervisor("app")
	sup.Add("<img src=x onerror=alert(1)>", shepherd.ServiceFunc(func(ctx context.Context) error { return nil }))
	h := shepherd.DebugHandler(sup)

	rec := get(t, h, "GET", "/debug/shepherd?format=html&refresh=5")
	body := rec.Body.String()
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET ?format=html = %d %q; want 200 text/html", rec.Code, rec.Header().Get("Content-Type"))
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q; want default-src 'none'", csp)
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="5">`,
		`<section class="node st-idle">`,
		`<span class="path">app/&lt;img src=x onerror=alert(1)&gt;</span>`,
		`unowned: goroutines without a shepherd label`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	for _, bad := range []string{"<img", "<script", "http://", "https://", "stylesheet"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q:\n%s", bad, body)
		}
	}
	if strings.Contains(get(t, h, "GET", "/?format=html").Body.String(), "http-equiv") {
		t.Errorf("page without refresh= reloads itself")
	}
}

func TestDebugHandlerRequests(t *testing.T) {
	h := shepherd.DebugHandler(shepherd.NewSupervisor("app"))
	for _, c := range []struct {
		method, target string
		code           int
		body           string
	}{
		{"POST", "/", 405, "shepherd: the debug page is read-only; use GET\n"},
		{"GET", "/?format=xml", 400, "shepherd: format=\"xml\": want text, json or html\n"},
		{"GET", "/?format=html&refresh=0", 400, "shepherd: refresh=\"0\": want a number of seconds from 1 to 3600\n"},
		{"HEAD", "/", 200, ""},
	} {
		rec := get(t, h, c.method, c.target)
		if rec.Code != c.code || (c.body != "" && rec.Body.String() != c.body) {
			t.Errorf("%s %s = %d %q; want %d %q", c.method, c.target, rec.Code, rec.Body, c.code, c.body)
		}
	}
	if msg := mustPanic(t, func() { shepherd.DebugHandler(nil) }); msg != "shepherd: DebugHandler: root 0 is nil; pass the *Supervisor whose tree to show" {
		t.Errorf("DebugHandler(nil) panicked with %q", msg)
	}
}

func TestDebugHandlerSeveralRoots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app, jobs := shepherd.NewSupervisor("app"), shepherd.NewSupervisor("jobs")
		app.Add("api", shepherd.ServiceFunc(func(ctx context.Context) error { return nil }))
		jobs.Add("nightly", shepherd.ServiceFunc(func(ctx context.Context) error { return nil }))
		got := debugText(t, shepherd.DebugHandler(app, jobs))
		want := `shepherd at 2000-01-01T00:00:00Z: 2 trees

app  supervisor  idle
  app/api  service  idle

jobs  supervisor  idle
  jobs/nightly  service  idle
`
		if got != want {
			t.Fatalf("text form =\n%s\nwant\n%s", got, want)
		}
	})
}

func TestDebugShowsPoolStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := shepherd.NewPool("reports", 2, func(ctx context.Context, n int) error {
			if n == 0 {
				return errBoom
			}
			return nil
		})
		sup := shepherd.NewSupervisor("app")
		sup.Add("reports", pool)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		for i := range 5 {
			if err := pool.Submit(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		h := shepherd.DebugHandler(sup)
		if text := debugText(t, h); !strings.Contains(text, "app/reports  pool  running for 0s  queued 0  in flight 0  done 4  failed 1  panicked 0  handed back 0") {
			t.Fatalf("text form lacks the pool's counters:\n%s", text)
		}
		page := debugTree(t, h, "&goroutines=0")
		if st := page.Roots[0].Children[0].Stats; st == nil || st.Submitted != 5 || st.Done != 4 || st.Failed != 1 {
			t.Fatalf("JSON stats = %+v; want 5 submitted, 4 done, 1 failed", st)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v; want nil", err)
		}
	})
}
