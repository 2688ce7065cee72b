package shepherd

import (
	"bufio"
	"bytes"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/shepherd-go/shepherd/goroutines"

	"github.com/shepherd-go/shepherd/internal/pprofl"
)

// A goroutine's wait, as the runtime's full goroutine dump states it:
//
//	goroutine 7 [chan receive, 5 minutes]:
//
// The runtime counts the wait in whole minutes, and only once it reaches
// one. With GODEBUG=tracebacklabels=1 (Go 1.26), or //go:debug
// tracebacklabels=1 in the main package, the header also carries the
// goroutine's labels, and so its owner:
//
//	goroutine 7 [chan receive, 5 minutes labels:{"shepherd.path": "app/api"}]:
type goroutineWait struct {
	path    string // from the labels; "" without tracebacklabels
	tree    string // the tree label (labelTree), likewise
	labeled bool   // the header carried labels
	reason  string // "chan receive", "select", "IO wait", "running"
	minutes int
	key     string // the stack, for matching with the goroutine profile
}

// readWaits reads the full goroutine dump (pprof debug=2), which is the
// only place the runtime states why and how long each goroutine waits.
func readWaits() []goroutineWait {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		return nil
	}
	return parseWaits(&buf)
}

func parseWaits(r *bytes.Buffer) []goroutineWait {
	var out []goroutineWait
	var frames []goroutines.Frame
	var cur *goroutineWait
	flush := func() {
		if cur != nil {
			cur.key = waitKey(frames)
			out = append(out, *cur)
		}
		cur, frames = nil, frames[:0]
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	pending := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "goroutine ") && strings.HasSuffix(line, "]:"):
			flush()
			if i := strings.IndexByte(line, '['); i >= 0 {
				w := parseWaitHeader(line[i+1 : len(line)-2])
				cur = &w
			}
		case strings.HasPrefix(line, "\t"):
			if pending != "" && !strings.HasPrefix(pending, "created by ") {
				file, lineNo := splitFileLine(strings.TrimSpace(line))
				frames = append(frames, goroutines.Frame{Function: pending, File: file, Line: lineNo})
			}
			pending = ""
		default:
			pending = line
			if i := strings.LastIndexByte(pending, '('); i > 0 && strings.HasSuffix(pending, ")") {
				pending = pending[:i]
			}
		}
	}
	flush()
	return out
}

// parseWaitHeader reads what is between the brackets of a goroutine's
// header: "chan receive, 5 minutes labels:{...}".
func parseWaitHeader(h string) goroutineWait {
	var w goroutineWait
	if i := strings.Index(h, " labels:{"); i >= 0 {
		w.labeled = true
		labels := pprofl.ParseLabels(strings.ReplaceAll(h[i+len(" labels:"):], `": "`, `":"`))
		w.path, w.tree = labels[labelPath], labels[labelTree]
		h = h[:i]
	}
	parts := strings.Split(h, ", ")
	w.reason = parts[0]
	for _, p := range parts[1:] {
		if n, ok := strings.CutSuffix(p, " minutes"); ok {
			w.minutes, _ = strconv.Atoi(n)
		}
	}
	return w
}

// splitFileLine splits "/src/file.go:12 +0x1d".
func splitFileLine(s string) (string, int) {
	if i := strings.LastIndex(s, " +0x"); i >= 0 {
		s = s[:i]
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, 0
	}
	n, _ := strconv.Atoi(s[i+1:])
	return s[:i], n
}

// waitKey identifies a stack in both the goroutine profile and the full
// dump. The dump hides the runtime's own frames, so the key leaves them
// out of both.
func waitKey(frames []goroutines.Frame) string {
	var b strings.Builder
	for _, f := range frames {
		if strings.HasPrefix(f.Function, "runtime.") {
			continue
		}
		b.WriteString(f.Function)
		b.WriteByte(' ')
		b.WriteString(f.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(f.Line))
		b.WriteByte('\n')
	}
	return b.String()
}

// A debugWait is one reason a set of goroutines waits for, with how many
// wait for it and the longest wait, as the runtime counts it: whole
// minutes, 0 under one.
type debugWait struct {
	Reason  string `json:"reason"`
	Count   int    `json:"count"`
	Longest int64  `json:"longest_wait_seconds"`
}

func (w debugWait) String() string {
	s := strconv.Itoa(w.Count) + " " + w.Reason
	if w.Longest > 0 {
		s += ", " + (time.Duration(w.Longest) * time.Second).String()
	} else {
		s += ", <1m"
	}
	return s
}

// waitIndex answers which waits belong to a set of goroutines of the
// goroutine profile.
type waitIndex struct {
	labeled bool                       // the dump carried labels: match by owner and stack
	byKey   map[string][]goroutineWait // stack (and owner, when labeled) -> waits
	owners  map[string]int             // stack -> owners in the goroutine profile
}

func newWaitIndex(waits []goroutineWait, sets []goroutines.Stack) *waitIndex {
	x := &waitIndex{byKey: map[string][]goroutineWait{}, owners: map[string]int{}}
	for _, w := range waits {
		x.labeled = x.labeled || w.labeled
	}
	for _, w := range waits {
		k := w.key
		if x.labeled {
			k = ownerKey(w.tree, w.path, k)
		}
		x.byKey[k] = append(x.byKey[k], w)
	}
	for _, g := range sets {
		x.owners[waitKey(g.Frames)]++
	}
	return x
}

// ownerKey keys the waits of a stack by owner, when the dump names the
// owners: the tree as well as the path, since two trees may have equal
// paths.
func ownerKey(tree, path, stack string) string { return tree + "\x00" + path + "\x00" + stack }

// waitsOf returns the waits of a set. Without labels in the dump, a stack
// that more than one owner shares cannot be split between them, and is
// given no waits rather than wrong ones.
func (x *waitIndex) waitsOf(g goroutines.Stack) []debugWait {
	k := waitKey(g.Frames)
	if x.labeled {
		k = ownerKey(g.Tree, g.Path, k)
	} else if x.owners[k] != 1 {
		return nil
	}
	var out []debugWait
	for _, w := range x.byKey[k] {
		i := 0
		for i < len(out) && out[i].Reason != w.reason {
			i++
		}
		if i == len(out) {
			out = append(out, debugWait{Reason: w.reason})
		}
		out[i].Count++
		out[i].Longest = max(out[i].Longest, int64(w.minutes)*60)
	}
	return out
}

// fillMerged gives the waits of a stack to a set that merged every owner
// of that stack: then they are its own, labels or not.
func (x *waitIndex) fillMerged(gs []debugGoroutines) {
	if x.labeled {
		return
	}
	for i := range gs {
		g := &gs[i]
		if g.Waits != nil || g.Tasks < 2 || x.owners[g.key] != g.Tasks {
			continue
		}
		for _, w := range x.byKey[g.key] {
			g.Waits = mergeWaits(g.Waits, []debugWait{{Reason: w.reason, Count: 1, Longest: int64(w.minutes) * 60}})
		}
	}
}
