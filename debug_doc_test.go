package shepherd_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"
)

// TestDebugHandlerDocListsEveryKey keeps DebugHandler's doc true: every
// key the JSON form writes, for a tree with a pool and a sampler, is listed
// in it, as a line of its own or quoted. A field added to Stats or to the
// page shows up in the JSON at once; this makes the doc follow.
func TestDebugHandlerDocListsEveryKey(t *testing.T) {
	doc := debugHandlerDoc(t)
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		pool := shepherd.NewPool("reports", 1, func(ctx context.Context, n int) error { blockedInTask(release); return nil })
		sup := shepherd.NewSupervisor("app")
		sup.Add("reports", pool)
		gs := shepherd.NewGoroutineSampler(sup, time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sup.Run(ctx) }()
		if err := pool.Submit(ctx, 1); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		gs.Sample()
		rec := get(t, shepherd.DebugHandler(sup), "GET", "/?format=json")
		var page any
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatalf("decoding the JSON form: %v\n%s", err, rec.Body)
		}
		keys := map[string]bool{}
		jsonKeys(page, keys)
		for _, want := range []string{"stats", "goroutine_trend", "interrupted", "workers", "weight", "frames"} {
			if !keys[want] {
				t.Errorf("the JSON form has no key %q, which this test means to check", want)
			}
		}
		var missing []string
		for k := range keys {
			listed := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(k) + `\s|"` + regexp.QuoteMeta(k) + `"`)
			if !listed.MatchString(doc) {
				missing = append(missing, k)
			}
		}
		slices.Sort(missing)
		if len(missing) > 0 {
			t.Errorf("DebugHandler's doc does not list the JSON keys %q", missing)
		}
		close(release)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v; want nil", err)
		}
	})
}

// jsonKeys adds the keys of every object in v to keys.
func jsonKeys(v any, keys map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			keys[k] = true
			jsonKeys(x, keys)
		}
	case []any:
		for _, x := range v {
			jsonKeys(x, keys)
		}
	}
}

// debugHandlerDoc returns the doc comment of DebugHandler in debug.go.
func debugHandlerDoc(t *testing.T) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "debug.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "DebugHandler" && fn.Doc != nil {
			return fn.Doc.Text()
		}
	}
	t.Fatal("no doc comment for DebugHandler in debug.go")
	return ""
}
