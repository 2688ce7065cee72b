package shepherd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shepherd-go/shepherd/goroutines"
)

// DebugHandler returns an http.Handler that shows the live tree of each
// root and every goroutine of the process, each under the node that owns
// it: the path, kind, state, time in that state, restarts and last error of
// every node, followed by the goroutines that carry the node's path in
// their "shepherd.path" pprof label, with their innermost frames. That
// includes goroutines started with a plain go statement inside a service or
// task, which inherit the label. Goroutines whose label names a path below
// a node that is not itself in the tree (the tasks of a Group inside a
// service, say "app/api/fetch") are listed under the nearest node above
// them, with their own path. A goroutine is listed in its own tree only
// (its "shepherd.tree" label), so two roots with equal names, such as two
// supervisors both called "app", each list their own goroutines. Labelled
// goroutines outside every tree come next, and goroutines without a
// shepherd label come last, as "unowned".
//
// The query selects the form:
//
//	?format=text       plain text (the default)
//	?format=json       JSON, for tools
//	?format=html       a self-contained page (no script, no external asset)
//	&refresh=N         with html: reload the page every N seconds
//	&goroutines=0      leave the goroutines out, which skips reading the
//	                   goroutine profile (it stops the world briefly)
//	&plumbing=1        text: unfold the goroutines that run only shepherd
//	                   and the standard library (supervisor loops, server
//	                   connections, this page's own request)
//
// The JSON form is an object with these keys:
//
//	time              when the page was made, RFC 3339 in UTC
//	total_goroutines  the goroutines of the process; 0 with goroutines=0
//	leak_profile      whether the binary can prove leaks (built with
//	                  GOEXPERIMENT=goroutineleakprofile)
//	leaked_goroutines the goroutines the runtime proved leaked
//	roots             one node per root, in the order given
//	other             goroutine sets of shepherd paths outside every tree
//	unowned           goroutine sets without a shepherd label
//
// A node is encoded exactly as json.Marshal encodes a Node (one encoder
// serves both), plus what only the page knows:
//
//	path               the node's path, "app/api"
//	kind               "supervisor", "pool" or "service"
//	state              the State by name: "idle", "starting", "running",
//	                   "restarting", "stopping", "stopped", "failed" or "stuck"
//	since              when it entered that state, RFC 3339 in UTC; absent if never
//	started            when its current or last run started; absent if never
//	restarts           how many times it was restarted
//	last_error         the text of its latest failure; absent if none
//	stats              a pool's Stats: "submitted", "queued", "in_flight", "done",
//	                   "failed", "panicked", "handed_back", "interrupted",
//	                   "workers", "weight"; absent for others
//	children           a supervisor's services in Add order; absent if none
//	goroutines         (page) the goroutine sets listed under the node
//	leaked_goroutines  (page) how many of them the runtime proved leaked
//	goroutine_trend    (page, when a GoroutineSampler watches the root) a
//	                   goroutines.Trend: "counts" oldest first, "only_grown",
//	                   "max_goroutines", "over_limit"
//
// A goroutine set is goroutines with one owner and one stack:
//
//	path       its owner; with "tasks", the first of the merged tasks' paths
//	tasks      how many tasks blocked at the same stack were merged into
//	           it ("fetch 1" … "fetch 500"); absent for one
//	last_path  the last of the merged tasks' paths
//	count      how many goroutines
//	leaked     how many of them the runtime proved leaked; absent if none
//	waits      why they wait: "reason" as the runtime names it ("chan
//	           receive", "select", "IO wait"), "count", and
//	           "longest_wait_seconds" (the runtime counts whole minutes, so
//	           0 means under one). A stack that several owners share gets
//	           waits only when the process runs with
//	           GODEBUG=tracebacklabels=1, which puts owners in the dump
//	plumbing   true for goroutines that run only shepherd and the standard
//	           library (folded away in the text and HTML forms)
//	frames     "function", "file", "line", innermost first; "program" marks
//	           the first frame of the program's own code
//
// DebugHandler is mounted nowhere by default. The page shows failure
// messages and code locations, so serve it only to operators, such as on a
// debug server bound to localhost next to net/http/pprof.
//
// DebugHandler panics if a root is nil.
func DebugHandler(roots ...*Supervisor) http.Handler {
	for i, r := range roots {
		if r == nil {
			panic("shepherd: DebugHandler: root " + strconv.Itoa(i) + " is nil; pass the *Supervisor whose tree to show")
		}
	}
	roots = slices.Clone(roots)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "shepherd: the debug page is read-only; use GET", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		refresh := 0
		if v := q.Get("refresh"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 3600 {
				http.Error(w, "shepherd: refresh="+strconv.Quote(v)+": want a number of seconds from 1 to 3600", http.StatusBadRequest)
				return
			}
			refresh = n
		}
		page := newDebugPage(roots, q.Get("goroutines") != "0")
		page.ShowPlumbing = q.Get("plumbing") == "1"
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		switch f := q.Get("format"); f {
		case "", "text":
			h.Set("Content-Type", "text/plain; charset=utf-8")
			page.writeText(w)
		case "json":
			h.Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(page)
		case "html":
			h.Set("Content-Type", "text/html; charset=utf-8")
			// The page loads nothing and runs nothing; the policy makes the
			// browser hold it to that.
			h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
			page.Refresh = refresh
			_ = debugHTML.Execute(w, page)
		default:
			http.Error(w, "shepherd: format="+strconv.Quote(f)+": want text, json or html", http.StatusBadRequest)
		}
	})
}

// debugPage is what every form of the debug page shows.
type debugPage struct {
	Time    time.Time         `json:"time"`
	Roots   []*debugNode      `json:"roots"`
	Other   []debugGoroutines `json:"other"`
	Unowned []debugGoroutines `json:"unowned"`
	// Total counts the goroutines of the process; 0 when they were left out.
	Total int `json:"total_goroutines"`
	// LeakProfile is whether the binary can prove leaks
	// (GOEXPERIMENT=goroutineleakprofile); Leaked counts the proven ones.
	LeakProfile bool `json:"leak_profile"`
	Leaked      int  `json:"leaked_goroutines"`

	UnownedCount int `json:"-"` // goroutines in Unowned
	// Unowned split for people as a node's goroutines are: the program's,
	// and the plumbing folded away. JSON lists them all in Unowned.
	UnownedProgram       []debugGoroutines `json:"-"`
	UnownedPlumbing      []debugGoroutines `json:"-"`
	UnownedPlumbingCount int               `json:"-"`
	Refresh              int               `json:"-"` // html only: seconds between reloads, 0 for none
	Goroutines           bool              `json:"-"` // whether goroutines were read
	ShowPlumbing         bool              `json:"-"` // plumbing=1: unfold shepherd's own goroutines
}

// debugNode is one Node as the debug page shows it: the node's own fields,
// encoded as json.Marshal encodes a Node, then its goroutines and children.
type debugNode struct {
	nodeJSON
	Goroutines []debugGoroutines `json:"goroutines"`
	// Trend is the node's goroutine count over the last samples, when a
	// GoroutineSampler watches the root.
	Trend *goroutines.Trend `json:"goroutine_trend,omitempty"`
	// Leaked counts the goroutines listed under the node that the runtime
	// proved leaked.
	Leaked   int          `json:"leaked_goroutines,omitempty"`
	Children []*debugNode `json:"children,omitempty"`

	Facts []debugFact `json:"-"`
	// The goroutines split for people: the program's, and the plumbing
	// (shepherd's and the standard library's own) folded away.
	Program       []debugGoroutines `json:"-"`
	Plumbing      []debugGoroutines `json:"-"`
	PlumbingCount int               `json:"-"`
	Age           string            `json:"-"` // time in State, for people
	Count         int               `json:"-"` // goroutines listed under the node
	Depth         int               `json:"-"`
}

// A debugFact is a figure shown beside a node's state in the text and
// HTML forms.
type debugFact struct{ Name, Value string }

// facts returns the figures shown beside a node's state in the text and
// HTML forms: restarts, and a pool's counters.
func facts(n Node) []debugFact {
	var fs []debugFact
	if n.Restarts > 0 {
		fs = append(fs, debugFact{"restarts", strconv.Itoa(n.Restarts)})
	}
	if st := n.Stats; st != nil {
		for _, f := range []struct {
			name string
			v    int64
		}{{"queued", st.Queued}, {"in flight", st.InFlight}, {"done", st.Done}, {"failed", st.Failed}, {"panicked", st.Panicked}, {"handed back", st.HandedBack}} {
			fs = append(fs, debugFact{f.name, strconv.FormatInt(f.v, 10)})
		}
		fs = append(fs, capacityFacts(st)...) // workers and weight (pool_resize.go)
	}
	return fs
}

// debugGoroutines is a set of goroutines with one owner and one stack.
type debugGoroutines struct {
	Path string `json:"path"`
	// Tasks, when more than one, counts the tasks whose sets were merged
	// into this one because they wait at the same stack; Path is the first
	// of their paths and LastPath the last.
	Tasks    int          `json:"tasks,omitempty"`
	LastPath string       `json:"last_path,omitempty"`
	Count    int          `json:"count"`
	Leaked   int          `json:"leaked,omitempty"` // of Count, proven leaked
	Waits    []debugWait  `json:"waits,omitempty"`
	Plumbing bool         `json:"plumbing,omitempty"`
	Frames   []debugFrame `json:"frames"`

	Own bool   `json:"-"` // Path is the path of the node it is listed under
	key string // the whole stack, for merging
}

type debugFrame struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	// Program marks the innermost frame of the program's own code, past
	// the standard library and shepherd: where to look first.
	Program bool `json:"program,omitempty"`
}

// debugFrames is how many frames the page shows of each stack: enough to
// see where a goroutine waits and who called it there.
const debugFrames = 5

func newDebugPage(roots []*Supervisor, withGoroutines bool) *debugPage {
	p := &debugPage{Time: time.Now().UTC(), Roots: []*debugNode{}, Other: []debugGoroutines{}, Unowned: []debugGoroutines{}, Goroutines: withGoroutines}
	trees := debugTrees{}
	for _, r := range roots {
		byPath := trees.of(rootTree(r))
		p.Roots = append(p.Roots, p.node(r.Snapshot(), 0, byPath))
		if gs := r.sampler.Load(); gs != nil {
			for path, t := range gs.Trends() {
				if n := byPath[path]; n != nil {
					n.Trend = &t
				}
			}
		}
	}
	if !withGoroutines {
		return p
	}
	all := goroutines.All()
	p.LeakProfile = markLeaked(all)
	waits := newWaitIndex(readWaits(), all)
	for _, g := range all {
		p.Total += g.Count
		p.Leaked += g.Leaked
		d := debugGoroutines{
			Path: g.Path, Count: g.Count, Leaked: g.Leaked, Frames: topFrames(g.Frames),
			Waits: waits.waitsOf(g), Plumbing: isPlumbingStack(g.Frames), key: waitKey(g.Frames),
		}
		switch n := trees.owner(g); {
		case g.Path == "":
			p.Unowned = append(p.Unowned, d)
			p.UnownedCount += g.Count
		case n != nil:
			n.Goroutines = append(n.Goroutines, d)
			n.Count += g.Count
			n.Leaked += g.Leaked
		default:
			p.Other = append(p.Other, d)
		}
	}
	for _, byPath := range trees {
		for path, n := range byPath {
			sortGoroutines(n.Goroutines, path)
			n.Goroutines = mergeTasks(n.Goroutines)
			waits.fillMerged(n.Goroutines)
			sortGoroutines(n.Goroutines, path)
			n.Program, n.Plumbing, n.PlumbingCount = splitPlumbing(n.Goroutines)
		}
	}
	sortGoroutines(p.Other, "")
	sortGoroutines(p.Unowned, "")
	p.UnownedProgram, p.UnownedPlumbing, p.UnownedPlumbingCount = splitPlumbing(p.Unowned)
	return p
}

func (p *debugPage) node(n Node, depth int, byPath map[string]*debugNode) *debugNode {
	d := &debugNode{nodeJSON: newNodeJSON(n), Goroutines: []debugGoroutines{}, Facts: facts(n), Depth: depth}
	if d.Since != nil {
		d.Age = roundAge(p.Time.Sub(*d.Since)).String()
	}
	if _, dup := byPath[n.Path]; !dup {
		byPath[n.Path] = d
	}
	for _, c := range n.Children {
		d.Children = append(d.Children, p.node(c, depth+1, byPath))
	}
	return d
}

// owner returns the node at path or, failing that, the nearest node above
// it; nil if no node covers path.
func owner(byPath map[string]*debugNode, path string) *debugNode {
	for path != "" {
		if n, ok := byPath[path]; ok {
			return n
		}
		i := strings.LastIndexByte(path, '/')
		if i < 0 {
			return nil
		}
		path = path[:i]
	}
	return nil
}

// sortGoroutines puts the biggest sets first, where a leak shows; among
// equal ones, a node's own goroutines come before those of paths below it.
func sortGoroutines(gs []debugGoroutines, own string) {
	for i := range gs {
		gs[i].Own = own != "" && gs[i].Path == own
	}
	slices.SortStableFunc(gs, func(a, b debugGoroutines) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if a.Own != b.Own {
			if a.Own {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Path, b.Path)
	})
}

// topFrames returns the innermost frames of a stack outside the runtime,
// which only says how a goroutine waits, not where in the program; all of
// them if that leaves none. When the first frame of the program's own code
// lies deeper, the frames run down to it, and it is marked.
func topFrames(fs []goroutines.Frame) []debugFrame {
	out := []debugFrame{}
	for _, skip := range []bool{true, false} {
		found := false
		for _, f := range fs {
			if skip && (strings.HasPrefix(f.Function, "runtime") || strings.HasPrefix(f.Function, "internal/")) {
				continue
			}
			d := debugFrame{Function: f.Function, File: f.File, Line: f.Line}
			if !found && isProgram(f.Function) {
				d.Program, found = true, true
			}
			if len(out) >= debugFrames && !found && !d.Program {
				continue // looking further down for the program's frame
			}
			out = append(out, d)
			if len(out) >= debugFrames && (found || len(out) >= debugMaxFrames) {
				return out
			}
		}
		if len(out) > 0 {
			break
		}
	}
	return out
}

// debugMaxFrames bounds the frames shown while looking for the program's.
const debugMaxFrames = 12

// roundAge keeps an age readable: milliseconds under a second, tenths of
// a second under a minute, seconds beyond.
func roundAge(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

func (p *debugPage) writeText(w http.ResponseWriter) {
	var b strings.Builder
	fmt.Fprintf(&b, "shepherd at %s: %d %s", p.Time.Format(time.RFC3339), len(p.Roots), plural(len(p.Roots), "tree", "trees"))
	if p.Goroutines {
		fmt.Fprintf(&b, ", %d %s", p.Total, plural(p.Total, "goroutine", "goroutines"))
		if p.LeakProfile {
			fmt.Fprintf(&b, ", %d proven leaked", p.Leaked)
		}
	}
	b.WriteString("\n")
	for _, n := range p.Roots {
		b.WriteString("\n")
		n.writeText(&b, p.ShowPlumbing)
	}
	if len(p.Other) > 0 {
		b.WriteString("\nother: goroutines of shepherd paths outside the trees\n")
		writeGoroutines(&b, p.Other, "    ")
	}
	if p.Goroutines {
		b.WriteString("\nunowned: goroutines without a shepherd label\n")
		writeGoroutines(&b, p.UnownedProgram, "    ")
		if p.ShowPlumbing {
			writeGoroutines(&b, p.UnownedPlumbing, "    ")
		} else if n := p.UnownedPlumbingCount; n > 0 {
			fmt.Fprintf(&b, "    %d %s of shepherd's and the standard library's plumbing, folded (?plumbing=1 shows them)\n", n, plural(n, "goroutine", "goroutines"))
		}
	}
	_, _ = w.Write([]byte(b.String()))
}

func (n *debugNode) writeText(b *strings.Builder, plumbing bool) {
	indent := strings.Repeat("  ", n.Depth)
	fmt.Fprintf(b, "%s%s  %s  %s", indent, n.Path, n.Kind, n.State)
	if n.Age != "" {
		fmt.Fprintf(b, " for %s", n.Age)
	}
	for _, f := range n.Facts {
		fmt.Fprintf(b, "  %s %s", f.Name, f.Value)
	}
	if n.Leaked > 0 {
		fmt.Fprintf(b, "  leaked %d", n.Leaked)
	}
	if t := n.Trend; t != nil {
		fmt.Fprintf(b, "  goroutines %s", t.Arrows())
		if t.Max > 0 {
			fmt.Fprintf(b, " (max %d)", t.Max)
		}
		if t.Over {
			b.WriteString(" OVER LIMIT")
		}
		if t.Growing {
			b.WriteString(" ONLY GROWN")
		}
	}
	b.WriteString("\n")
	if n.LastErr != "" {
		fmt.Fprintf(b, "%s    last error: %s\n", indent, strings.ReplaceAll(n.LastErr, "\n", "\n"+indent+"      "))
	}
	writeGoroutines(b, n.Program, indent+"    ")
	if n.PlumbingCount > 0 {
		if plumbing {
			writeGoroutines(b, n.Plumbing, indent+"    ")
		} else {
			fmt.Fprintf(b, "%s    %d %s of shepherd's and the standard library's plumbing, folded (?plumbing=1 shows them)\n",
				indent, n.PlumbingCount, plural(n.PlumbingCount, "goroutine", "goroutines"))
		}
	}
	for _, c := range n.Children {
		c.writeText(b, plumbing)
	}
}

func writeGoroutines(b *strings.Builder, gs []debugGoroutines, indent string) {
	for _, g := range gs {
		fmt.Fprintf(b, "%s%d %s", indent, g.Count, plural(g.Count, "goroutine", "goroutines"))
		if g.Path != "" && !g.Own {
			fmt.Fprintf(b, " of %s", g.Path)
			if g.Tasks > 1 {
				fmt.Fprintf(b, " … %s (%d tasks)", g.LastPath, g.Tasks)
			}
		}
		if g.Leaked > 0 {
			fmt.Fprintf(b, ", %d PROVEN LEAKED (can never wake)", g.Leaked)
		}
		b.WriteString("\n")
		for _, w := range g.Waits {
			fmt.Fprintf(b, "%s    waiting: %s\n", indent, w)
		}
		if len(g.Frames) == 0 {
			fmt.Fprintf(b, "%s    (no stack: starting or exiting)\n", indent)
		}
		for _, f := range g.Frames {
			mark := "  "
			if f.Program {
				mark = "> "
			}
			fmt.Fprintf(b, "%s  %s%s  %s:%d\n", indent, mark, f.Function, f.File, f.Line)
		}
	}
}
