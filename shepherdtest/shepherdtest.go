// Package shepherdtest checks at the end of a test that every goroutine
// shepherd owns has returned, and names the owner of each one that has not.
//
// goleak says that some goroutine outlived a test; shepherdtest says whose
// it is. Every goroutine a shepherd Group, Supervisor or HTTPServer starts,
// and every goroutine started with a plain go statement inside one of
// them, carries its owner's path in the "shepherd.path" pprof label. A
// leftover one is reported by that path and the line where it waits:
//
//	shepherdtest: 1 goroutine owned by shepherd is still running:
//	  "app/api/leak": 1 goroutine in main.leak.func1 (/src/app/main.go:74)
//
// Goroutines without the label are outside its view: run goleak beside it
// to catch those. The package is built on the labels alone, so it adds no
// dependency to the module that uses it.
package shepherdtest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd/goroutines"
)

// TB is the part of testing.TB that VerifyNone uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// An Option configures a check.
type Option func(*config)

type config struct {
	ignore []string
	grace  time.Duration
}

// IgnorePath leaves out the goroutines owned by path or by a path below
// it: a tree that a test deliberately leaves running for the next one.
func IgnorePath(path string) Option {
	return func(c *config) { c.ignore = append(c.ignore, path) }
}

// Grace sets how long a check gives goroutines on their way out to return
// before it reports them (DefaultGrace if unset): a Group's Wait returns
// once its tasks are done, a moment before their goroutines have exited.
func Grace(d time.Duration) Option {
	return func(c *config) { c.grace = d }
}

// DefaultGrace is how long a check gives shepherd's goroutines to return
// before it reports them.
const DefaultGrace = 2 * time.Second

// Find returns nil once no goroutine owned by shepherd is alive, giving
// those on their way out the Grace period to return. Otherwise it returns
// an error that lists each owner path with its number of goroutines and
// the innermost frame of the program's own code where they wait.
//
// In a test binary built with GOEXPERIMENT=goroutineleakprofile (Go 1.26:
// GOEXPERIMENT=goroutineleakprofile go test ./...), Find first asks the
// runtime which goroutines it can prove will never wake. If any of them
// has a shepherd owner, Find returns at once, without a grace period, an
// error that says they are proven leaked and gives each one's owner and
// whole stack. Goroutines that are merely slow are waited for as before.
func Find(opts ...Option) error {
	cfg := config{grace: DefaultGrace}
	for _, o := range opts {
		o(&cfg)
	}
	deadline := time.Now().Add(cfg.grace)
	pause := time.Millisecond
	for first := true; ; first = false {
		left := leftovers(cfg.ignore)
		if len(left) == 0 {
			return nil
		}
		if first {
			// A goroutine the runtime proved leaked will never return:
			// waiting out the grace period for it would only delay the
			// news. One look is enough; it costs a garbage collection.
			if leaked := provenLeaks(cfg.ignore); len(leaked) > 0 {
				return reportLeaks(leaked)
			}
		}
		if !time.Now().Before(deadline) {
			return report(left)
		}
		time.Sleep(min(pause, time.Until(deadline)))
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// VerifyNone fails t, naming owners, if a goroutine owned by shepherd is
// still alive after the Grace period. Defer it at the top of a test:
//
//	defer shepherdtest.VerifyNone(t)
//
// Like goleak.VerifyNone, it sees the goroutines of the whole process, so
// it does not suit tests that run in parallel with others that use
// shepherd.
func VerifyNone(t TB, opts ...Option) {
	t.Helper()
	if err := Find(opts...); err != nil {
		t.Errorf("%v", err)
	}
}

// VerifyTestMain runs the tests of m and then checks, like VerifyNone,
// that every goroutine owned by shepherd has returned; a leftover one
// fails the test binary. It does not return:
//
//	func TestMain(m *testing.M) { shepherdtest.VerifyTestMain(m) }
func VerifyTestMain(m *testing.M, opts ...Option) {
	code := m.Run()
	if code == 0 {
		if err := Find(opts...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// provenLeaks returns the goroutines with a shepherd owner, not ignored,
// that the runtime proved leaked; none in a binary built without
// GOEXPERIMENT=goroutineleakprofile.
func provenLeaks(ignore []string) []goroutines.Stack {
	all, _ := goroutines.Leaked()
	var out []goroutines.Stack
	for _, g := range all {
		if g.Path != "" && !ignored(g.Path, ignore) {
			out = append(out, g)
		}
	}
	return out
}

// reportLeaks reports proven leaks with their whole stacks: they are
// certain, so the report says so, and says where they were started.
func reportLeaks(leaked []goroutines.Stack) error {
	total := 0
	for _, g := range leaked {
		total += g.Count
	}
	var b strings.Builder
	fmt.Fprintf(&b, "shepherdtest: %d %s owned by shepherd %s proven leaked (the runtime proved %s can never wake):",
		total, plural(total, "goroutine", "goroutines"), plural(total, "is", "are"), plural(total, "it", "they"))
	for _, g := range leaked {
		fmt.Fprintf(&b, "\n  %q: %d %s in %s", g.Path, g.Count, plural(g.Count, "goroutine", "goroutines"), where(g.Frames))
		for _, f := range g.Frames {
			fmt.Fprintf(&b, "\n      %s\n          %s:%d", f.Function, f.File, f.Line)
		}
	}
	return fmt.Errorf("%s", b.String())
}

// leftovers returns the live goroutine stacks with a shepherd owner that
// is not ignored.
func leftovers(ignore []string) []goroutines.Stack {
	var out []goroutines.Stack
	for _, g := range goroutines.All() {
		if g.Path != "" && !ignored(g.Path, ignore) {
			out = append(out, g)
		}
	}
	return out
}

func ignored(path string, ignore []string) bool {
	for _, p := range ignore {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func report(left []goroutines.Stack) error {
	// One line per owner and place: a leak of a thousand goroutines from
	// one line reads as one line.
	type key struct {
		path  string
		frame string
	}
	var order []key
	counts := map[key]int{}
	total := 0
	for _, g := range left {
		k := key{g.Path, where(g.Frames)}
		if _, seen := counts[k]; !seen {
			order = append(order, k)
		}
		counts[k] += g.Count
		total += g.Count
	}
	var b strings.Builder
	fmt.Fprintf(&b, "shepherdtest: %d %s owned by shepherd %s still running:", total, plural(total, "goroutine", "goroutines"), plural(total, "is", "are"))
	for _, k := range order {
		n := counts[k]
		fmt.Fprintf(&b, "\n  %q: %d %s in %s", k.path, n, plural(n, "goroutine", "goroutines"), k.frame)
	}
	return fmt.Errorf("%s", b.String())
}

// where names the innermost frame of the program's own code: past the
// runtime, the standard library's waiting primitives and shepherd itself,
// which say how a goroutine waits but not which line of the program made it.
func where(frames []goroutines.Frame) string {
	if f, ok := (goroutines.Stack{Frames: frames}).WaitsIn(); ok {
		return fmt.Sprintf("%s (%s:%d)", f.Function, f.File, f.Line)
	}
	if len(frames) > 0 {
		f := frames[0]
		return fmt.Sprintf("%s (%s:%d)", f.Function, f.File, f.Line)
	}
	return "(no stack)"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
