package goroutines

import (
	"bytes"
	"context"
	"reflect"
	"runtime/pprof"
	"strings"
	"testing"
)

// profile is a debug=1 goroutine profile as the runtime writes it: one set
// with both labels, one without any.
const profile = `goroutine profile: total 4
3 @ 0x43e0ce 0x40a8a5 0x6a1c53 0x471e21
# labels: {"shepherd.path":"app/api/fetch users", "shepherd.tree":"0xc000010000"}
#	0x6a1c52	main.fetch+0x32	/src/app/main.go:40
#	0x471e20	runtime.goexit+0x0	/usr/local/go/src/runtime/asm_amd64.s:1700

1 @ 0x43e0ce 0x471e21
#	0x43e0cd	runtime.gopark+0xcd	/usr/local/go/src/runtime/proc.go:435

`

func TestParse(t *testing.T) {
	got := parse(bytes.NewBufferString(profile))
	want := []Stack{
		{Path: "app/api/fetch users", Tree: "0xc000010000", Count: 3, Frames: []Frame{
			{Function: "main.fetch", File: "/src/app/main.go", Line: 40},
			{Function: "runtime.goexit", File: "/usr/local/go/src/runtime/asm_amd64.s", Line: 1700},
		}},
		{Count: 1, Frames: []Frame{{Function: "runtime.gopark", File: "/usr/local/go/src/runtime/proc.go", Line: 435}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parse(profile) =\n%+v\nwant\n%+v", got, want)
	}
}

// TestAllFindsALabelledGoroutine: a goroutine started under the labels is
// listed with its owner, its tree and the function it waits in.
func TestAllFindsALabelledGoroutine(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{})
	defer close(release)
	pprof.Do(context.Background(), pprof.Labels(Label, "app/waiter", TreeLabel, "tree-1"), func(context.Context) {
		go waitHere(started, release)
	})
	<-started
	for _, g := range All() {
		if g.Path != "app/waiter" {
			continue
		}
		if g.Tree != "tree-1" || g.Count != 1 || !hasFrame(g, "waitHere") {
			t.Fatalf("All() lists the waiter as %+v; want tree-1, one goroutine, in waitHere", g)
		}
		return
	}
	t.Fatal("All() does not list the goroutine labelled app/waiter")
}

func waitHere(started, release chan struct{}) {
	close(started)
	<-release
}

func hasFrame(g Stack, fn string) bool {
	for _, f := range g.Frames {
		if strings.HasSuffix(f.Function, fn) {
			return true
		}
	}
	return false
}

// TestLeakedAgreesWithAvailability: Leaked answers only when the binary
// can prove leaks.
func TestLeakedAgreesWithAvailability(t *testing.T) {
	if _, ok := Leaked(); ok != LeakProfileAvailable() {
		t.Errorf("Leaked() ok = %v; LeakProfileAvailable() = %v", ok, LeakProfileAvailable())
	}
}
