package shepherd

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shepherd-go/shepherd/goroutines"
)

// defaultSampleWindow is a GoroutineSampler's history unless Window sets it.
const defaultSampleWindow = 10

// A GoroutineSampler counts, at an interval, the goroutines each node of a
// tree holds, its own and those labelled below it (plain go statements
// included), and keeps a short history of the counts. The seed articles'
// advice is to watch the goroutine count and suspect a leak when it only
// grows; the sampler does it per owner, so the suspect has a name.
//
// It is a Service: add it to the tree it watches. DebugHandler of that
// tree then shows each node's trend:
//
//	gs := shepherd.NewGoroutineSampler(sup, 30*time.Second).MaxGoroutines("app/api", 10_000)
//	sup.Add("goroutine-sampler", gs)
//	debugMux.Handle("/debug/shepherd", shepherd.DebugHandler(sup))
//	mux.Handle("/livez", gs.Livez(shepherd.Livez(sup)))
//
// Each sample reads the goroutine profile, which stops the world for a
// moment, and counts it per node: BenchmarkGoroutineSample measures about
// 12 ms for a process of 1,000 goroutines on a small two-core machine, so
// at an interval of a minute the sampler takes some 0.02% of one core.
// Nothing else pays: no hot path counts goroutines.
type GoroutineSampler struct {
	root   *Supervisor
	every  time.Duration
	window int
	limits map[string]int

	mu      sync.Mutex
	ran     bool             // Run was called: Window and MaxGoroutines panic
	history map[string][]int // path -> counts, oldest first, at most window
	samples int
	over    map[string]*goroutines.LimitError // paths past their limit at the last sample
}

// Window sets how many samples the history keeps per node (10 unless set);
// a node is flagged as only growing when its count rose at every sample of
// a full window. It returns s, so that it can follow NewGoroutineSampler.
// It panics if n is less than 2 or s has run.
func (s *GoroutineSampler) Window(n int) *GoroutineSampler {
	if n < 2 {
		panic("shepherd: GoroutineSampler.Window(" + strconv.Itoa(n) + "): keep at least 2 samples, or leave the call out for 10")
	}
	s.beforeRun("Window")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window = n
	return s
}

// MaxGoroutines sets a ceiling on the goroutines the node at path may hold,
// counting every goroutine labelled with path or a path below it. A sample
// past it emits an Event at once to the tree's Logger and OnEvent, with
// the node's state and, in Err, a *goroutines.LimitError that names the owner and where its
// goroutines wait; the metrics export it; and the handler from Livez, if
// used, fails until a sample is back under. A bare go statement in a
// request handler is counted by nothing else: this is what keeps such a
// leak from taking the process down quietly. It returns s, so that calls
// can be chained; it panics if path is empty, n is less than 1 or s has run.
func (s *GoroutineSampler) MaxGoroutines(path string, n int) *GoroutineSampler {
	if path == "" || n < 1 {
		panic("shepherd: GoroutineSampler.MaxGoroutines(" + quote(path) + ", " + strconv.Itoa(n) + "): want a service's path and a ceiling of at least 1")
	}
	s.beforeRun("MaxGoroutines")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[path] = n
	return s
}

// beforeRun panics if s has run: its settings are read without a lock
// once it samples.
func (s *GoroutineSampler) beforeRun(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ran {
		panic("shepherd: GoroutineSampler." + method + " after Run: configure the sampler before adding it to a running tree")
	}
}

// NewGoroutineSampler returns a sampler of the tree under root that samples
// every interval (a minute is a good start), and makes DebugHandler(root)
// show its trends. It samples only while it runs as a service. It panics
// if root is nil or every is not positive.
func NewGoroutineSampler(root *Supervisor, every time.Duration) *GoroutineSampler {
	if root == nil {
		panic("shepherd: NewGoroutineSampler(nil): pass the root *Supervisor whose goroutines to count")
	}
	if every <= 0 {
		panic("shepherd: NewGoroutineSampler(" + quote(root.name) + ", " + every.String() + "): sample at a positive interval, such as time.Minute")
	}
	s := &GoroutineSampler{root: root, every: every, window: defaultSampleWindow, limits: map[string]int{},
		history: map[string][]int{}, over: map[string]*goroutines.LimitError{}}
	root.sampler.Store(s)
	return s
}

// Run samples at once and then every interval until ctx is done; it
// returns nil then.
func (s *GoroutineSampler) Run(ctx context.Context) error {
	s.mu.Lock()
	s.ran = true
	s.mu.Unlock()
	var ev *events
	if sc := scopeOf(ctx); sc != nil {
		ev = sc.ev
	}
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		if fresh := s.Sample(); len(fresh) > 0 {
			tree := s.root.Snapshot()
			for _, e := range fresh {
				ev.emit(ctx, Event{State: stateAt(tree, e.Path), Path: e.Path, Err: e})
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sample takes one sample now and returns the limits it found newly
// passed. Run calls it; tests and tools may too.
func (s *GoroutineSampler) Sample() []*goroutines.LimitError {
	all := goroutines.All()
	tree := s.root.treeID()
	counts := map[string]int{}
	var nodes []string
	var walk func(n Node)
	walk = func(n Node) {
		nodes = append(nodes, n.Path)
		counts[n.Path] = 0
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(s.root.Snapshot())
	for path := range s.limits {
		if _, ok := counts[path]; !ok {
			nodes = append(nodes, path)
			counts[path] = 0
		}
	}
	for _, g := range all {
		if g.Tree != tree {
			continue // another tree's, even if its paths are the same
		}
		for p := g.Path; p != ""; p = parentPath(p) {
			if _, ok := counts[p]; ok {
				counts[p] += g.Count
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	for p := range s.history {
		if _, ok := counts[p]; !ok {
			// A node removed from the tree (Supervisor.Remove) has no
			// trend any more; keeping it would grow the history with
			// every name ever used and export a stale count for it.
			delete(s.history, p)
		}
	}
	for _, p := range nodes {
		h := append(s.history[p], counts[p])
		if len(h) > s.window {
			h = h[len(h)-s.window:]
		}
		s.history[p] = h
	}
	var fresh []*goroutines.LimitError
	for path, max := range s.limits {
		n := counts[path]
		if n <= max {
			delete(s.over, path)
			continue
		}
		e := &goroutines.LimitError{Path: path, Count: n, Max: max, Goroutines: goroutinesUnder(all, tree, path)}
		if s.over[path] == nil {
			fresh = append(fresh, e)
		}
		s.over[path] = e
	}
	slices.SortFunc(fresh, func(a, b *goroutines.LimitError) int { return strings.Compare(a.Path, b.Path) })
	return fresh
}

// stateAt returns the state of the node at path in the tree under n:
// what an over-limit event reports, since it is not a change of state.
// A path that names no node (a MaxGoroutines on a path below a service)
// takes the state of the nearest node above it.
func stateAt(n Node, path string) State {
	for {
		next := -1
		for i, c := range n.Children {
			if c.Path == path || strings.HasPrefix(path, c.Path+"/") {
				next = i
				break
			}
		}
		if next < 0 {
			return n.State
		}
		n = n.Children[next]
	}
}

func parentPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Trends returns the trend of each node the last sample found in the
// tree (and of each path given a MaxGoroutines), by path.
func (s *GoroutineSampler) Trends() map[string]goroutines.Trend {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]goroutines.Trend, len(s.history))
	for p, h := range s.history {
		t := goroutines.Trend{Counts: slices.Clone(h), Max: s.limits[p], Over: s.over[p] != nil}
		t.Growing = len(h) == s.window
		for i := 1; i < len(h); i++ {
			t.Growing = t.Growing && h[i] > h[i-1]
		}
		out[p] = t
	}
	return out
}
