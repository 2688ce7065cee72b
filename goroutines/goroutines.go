// Package goroutines reads the process's goroutine profile and groups the
// live goroutines by owner: the shepherd path in their "shepherd.path" pprof
// label, which every goroutine a shepherd Group, Pool or Supervisor starts
// carries and passes on to the goroutines it starts with a plain go
// statement. shepherd's stuck reports, its debug page and shepherdtest are
// built on it; use it to count or list what a task left behind. It also
// holds what a shepherd GoroutineSampler reports: a node's Trend, and the
// LimitError of a node past its MaxGoroutines.
package goroutines

import (
	"bufio"
	"bytes"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/shepherd-go/shepherd/internal/pprofl"
)

// Label is the pprof label key under which every goroutine started by
// shepherd records the path of its owner, such as "app/api/fetch users".
// Goroutines started from inside a task with a plain go statement inherit
// the label, so `go tool pprof -tagfocus` and goroutine dumps can attribute
// them too.
const Label = "shepherd.path"

// TreeLabel is the pprof label key under which every goroutine of a
// supervisor tree records the tree's identity, set once by the root
// supervisor's Run and inherited like Label. Two trees whose paths are
// equal (two supervisors both called "app") have different identities, so
// neither waits for, or reports, the other's goroutines.
const TreeLabel = "shepherd.tree"

// A Stack is a set of live goroutines that share an owner and a
// stack.
type Stack struct {
	// Path is the owner's shepherd path (the goroutines' "shepherd.path"
	// pprof label), or "" for goroutines that no shepherd task owns.
	Path string
	// Tree identifies the supervisor tree the owner belongs to (the
	// "shepherd.tree" label), so that two trees with equal names are told
	// apart; "" outside a supervisor tree.
	Tree string
	// Count is how many goroutines are blocked at this stack.
	Count int
	// Frames is the stack, innermost call first.
	Frames []Frame
	// Leaked is how many of the Count goroutines the runtime proved can
	// never wake (see Leaked); 0 when nobody asked, or when the
	// binary cannot tell.
	Leaked int
}

// A Frame is one call on a goroutine's stack.
type Frame struct {
	Function string
	File     string
	Line     int
}

// String formats the frame as a traceback does: the function, then its
// file and line on an indented line.
func (f Frame) String() string { return f.Function + "\n\t" + f.File + ":" + strconv.Itoa(f.Line) }

// All returns every live goroutine of the process, grouped by owner
// path and stack. It reads the runtime's goroutine profile, which stops the
// world briefly, so it belongs in reports and debug pages, not in hot paths.
func All() []Stack {
	var buf bytes.Buffer
	// debug=1 is the only text form that carries labels; the proto form
	// would need a profile decoder this module does not depend on.
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return nil
	}
	return parse(&buf)
}

// parse reads the debug=1 goroutine profile: blocks of
//
//	N @ 0x… 0x…
//	# labels: {"shepherd.path":"app/api"}
//	#	0x…	pkg.fn+0x…	/path/file.go:12
//
// separated by blank lines.
func parse(r *bytes.Buffer) []Stack {
	var out []Stack
	var cur *Stack
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			cur = nil
		case strings.HasPrefix(line, "# labels: "):
			if cur != nil {
				labels := pprofl.ParseLabels(strings.TrimPrefix(line, "# labels: "))
				cur.Path, cur.Tree = labels[Label], labels[TreeLabel]
			}
		case strings.HasPrefix(line, "#"):
			if cur == nil {
				continue
			}
			f := strings.Fields(line)
			if len(f) < 4 {
				continue
			}
			fn := f[2]
			if i := strings.LastIndex(fn, "+0x"); i >= 0 {
				fn = fn[:i]
			}
			loc := strings.Join(f[3:], " ")
			file, lineNo := loc, 0
			if i := strings.LastIndexByte(loc, ':'); i >= 0 {
				file = loc[:i]
				lineNo, _ = strconv.Atoi(loc[i+1:])
			}
			cur.Frames = append(cur.Frames, Frame{Function: fn, File: file, Line: lineNo})
		default:
			n, rest, ok := strings.Cut(line, " @ ")
			count, err := strconv.Atoi(n)
			if !ok || err != nil || rest == "" {
				continue
			}
			out = append(out, Stack{Count: count})
			cur = &out[len(out)-1]
		}
	}
	return out
}
