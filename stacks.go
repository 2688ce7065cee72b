package shepherd

import (
	"bufio"
	"bytes"
	"runtime/pprof"
	"strconv"
	"strings"
)

// A GoroutineStack is a set of live goroutines that share an owner and a
// stack.
type GoroutineStack struct {
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
	// never wake (see LeakedGoroutines); 0 when nobody asked, or when the
	// binary cannot tell.
	Leaked int
}

// A Frame is one call on a goroutine's stack.
type Frame struct {
	Function string
	File     string
	Line     int
}

func (f Frame) String() string { return f.Function + "\n\t" + f.File + ":" + strconv.Itoa(f.Line) }

// Goroutines returns every live goroutine of the process, grouped by owner
// path and stack. It reads the runtime's goroutine profile, which stops the
// world briefly, so it belongs in reports and debug pages, not in hot paths.
func Goroutines() []GoroutineStack {
	var buf bytes.Buffer
	// debug=1 is the only text form that carries labels; the proto form
	// would need a profile decoder this module does not depend on.
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return nil
	}
	return parseGoroutineProfile(&buf)
}

// parseGoroutineProfile reads the debug=1 goroutine profile: blocks of
//
//	N @ 0x… 0x…
//	# labels: {"shepherd.path":"app/api"}
//	#	0x…	pkg.fn+0x…	/path/file.go:12
//
// separated by blank lines.
func parseGoroutineProfile(r *bytes.Buffer) []GoroutineStack {
	var out []GoroutineStack
	var cur *GoroutineStack
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			cur = nil
		case strings.HasPrefix(line, "# labels: "):
			if cur != nil {
				labels := parseLabels(strings.TrimPrefix(line, "# labels: "))
				cur.Path, cur.Tree = labels[LabelPath], labels[LabelTree]
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
			out = append(out, GoroutineStack{Count: count})
			cur = &out[len(out)-1]
		}
	}
	return out
}

// parseLabels reads a label set as pprof prints it: {"k":"v", "k2":"v2"}.
func parseLabels(s string) map[string]string {
	m := map[string]string{}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	for s != "" {
		kq, err := strconv.QuotedPrefix(s)
		if err != nil {
			break
		}
		s = strings.TrimPrefix(s[len(kq):], ":")
		vq, err := strconv.QuotedPrefix(s)
		if err != nil {
			break
		}
		s = strings.TrimPrefix(s[len(vq):], ", ")
		k, _ := strconv.Unquote(kq)
		v, _ := strconv.Unquote(vq)
		m[k] = v
	}
	return m
}
