package shepherd

import (
	"bytes"
	"testing"

	"github.com/shepherd-go/shepherd/goroutines"
)

// TestParseWaits reads a full goroutine dump as Go 1.26 writes it, with
// and without GODEBUG=tracebacklabels=1.
func TestParseWaits(t *testing.T) {
	dump := `goroutine 7 [chan receive, 12 minutes labels:{"shepherd.path": "app/api/fetch 3", "x": "y"}]:
main.fetch(0xc000010000)
	/src/app/main.go:40 +0x25
created by main.serve in goroutine 1
	/src/app/main.go:30 +0x40

goroutine 8 [select]:
net/http.(*conn).serve(0xc0000a0000)
	/usr/local/go/src/net/http/server.go:2000 +0x1
`
	ws := parseWaits(bytes.NewBufferString(dump))
	if len(ws) != 2 {
		t.Fatalf("parseWaits = %+v; want 2 goroutines", ws)
	}
	w := ws[0]
	if w.path != "app/api/fetch 3" || !w.labeled || w.reason != "chan receive" || w.minutes != 12 {
		t.Errorf("first = %+v; want app/api/fetch 3, labeled, chan receive, 12 minutes", w)
	}
	if want := waitKey([]goroutines.Frame{{Function: "main.fetch", File: "/src/app/main.go", Line: 40}}); w.key != want {
		t.Errorf("first key = %q; want %q (the creator is not a frame)", w.key, want)
	}
	if w := ws[1]; w.labeled || w.path != "" || w.reason != "select" || w.minutes != 0 {
		t.Errorf("second = %+v; want select, no labels, 0 minutes", w)
	}
}

func TestIsProgram(t *testing.T) {
	for fn, want := range map[string]bool{
		"main.leak.func1":                                         true,
		"github.com/acme/app/db.(*Pool).Get":                      true,
		"github.com/shepherd-go/shepherd.(*Supervisor).supervise": false,
		"github.com/shepherd-go/shepherd_test.blockedInTask":      true,
		"net/http.(*conn).serve":                                  false,
		"testing.tRunner":                                         false,
		"runtime.gopark":                                          false,
		"golang.org/x/sync/errgroup.(*Group).Wait":                true,
	} {
		if got := isProgram(fn); got != want {
			t.Errorf("isProgram(%q) = %v; want %v", fn, got, want)
		}
	}
}

func TestNaturalLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"fetch 9", "fetch 10", true},
		{"fetch 10", "fetch 9", false},
		{"fetch 10", "fetch 10", false},
		{"a/fetch 2", "a/fetch 2x", true},
		{"b", "a 1", false},
	} {
		if got := naturalLess(c.a, c.b); got != c.want {
			t.Errorf("naturalLess(%q, %q) = %v; want %v", c.a, c.b, got, c.want)
		}
	}
}
