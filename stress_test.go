package shepherd_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shepherd-go/shepherd"

	"github.com/shepherd-go/shepherd/goroutines"
)

// The stress test builds a random supervision tree from a seed, injects
// faults at random (virtual) times, stops it, and checks the invariants
// that make the library trustworthy. Trees are up to four supervisors deep
// and twenty services wide; every leaf service also starts tasks over and
// over, so that Group.Go races the stop. Time runs in a synctest bubble,
// so a seed replays the same schedule of faults; goroutine interleavings
// within one instant may still differ, which is what -race and many seeds
// are for. A seed that fails once but passes on a rerun is still a bug:
// rerun it with -count=100.
//
//	go test -run Stress -stress.seeds=10000        # many seeds
//	go test -run Stress -stress.seed=1234 -v       # one seed, with its tree
var (
	stressSeeds = flag.Int("stress.seeds", envInt("SHEPHERD_STRESS_SEEDS", 150), "number of seeds TestStress runs")
	stressFirst = flag.Uint64("stress.first", 1, "first seed TestStress runs")
	stressSeed  = flag.Uint64("stress.seed", 0, "run only this seed, and print its tree")
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func TestStress(t *testing.T) {
	if raceEnabled {
		// Go 1.26's race runtime gives each synctest bubble one race
		// context for running its timers, and a timer channel read after
		// its time has passed runs the timer on the reader's thread. Two
		// goroutines of one bubble doing that at once use the context from
		// two threads, and ThreadSanitizer crashes (SIGSEGV in its own
		// code), about once per 2,000 seeds here; a test of a few lines
		// with no shepherd in it does the same. With one P the uses take
		// turns. The race detector still sees every unsynchronised access;
		// runs without -race keep the parallel schedule.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	if *stressSeed != 0 {
		runSeed(t, *stressSeed, true)
		return
	}
	n := *stressSeeds
	if testing.Short() {
		n = min(n, 20)
	}
	failed := 0
	for seed := *stressFirst; seed < *stressFirst+uint64(n); seed++ {
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runSeed(t, seed, false) })
		if !ok {
			failed++
			if failed >= 5 {
				t.Fatalf("stopping after %d failing seeds", failed)
			}
		}
	}
}

// fault is what a leaf service does at its fault time.
type faultKind int

const (
	faultNone      faultKind = iota
	faultError               // Run returns an error
	faultPanicErr            // Run panics with an error
	faultPanicVal            // Run panics with a non-error value
	faultGoexit              // Run calls runtime.Goexit
	faultFinish              // Run returns nil
	faultSlowStop            // ignores its context for a while, within the budget
	faultStuck               // ignores its context past the budget
	faultHangStop            // a Stop method that hangs past the budget
	faultStorm               // fails at once on every run, restarted Always
	faultGroupTask           // a task of its Group fails
	faultPool                // a Pool fed by submitters, whose handlers fail, panic and dawdle
	numFaultKinds
)

var faultNames = [...]string{"none", "error", "panic(error)", "panic(value)", "goexit", "finish", "slow-stop", "stuck", "hang-stop", "storm", "group-task", "pool"}

// injection records a fault as it happens.
type injection struct {
	at    time.Duration
	path  string
	kind  faultKind
	err   error // the error or panic value, made unique per injection
	value any
}

// world is one seed's run: the tree, its log of faults and events.
type world struct {
	t       *testing.T
	rnd     *rand.Rand
	start   time.Time
	release chan struct{} // closed at the end, to free stuck services

	mu       sync.Mutex
	injected []injection
	events   []shepherd.Event
	sups     map[string]supConfig // path -> restart intensity
	leaves   map[string]*leafPlan
	pools    []*poolPlan
	verbose  strings.Builder
}

type supConfig struct {
	max int
	per time.Duration
}

type leafPlan struct {
	path    string
	kind    faultKind
	at      time.Duration
	policy  shepherd.RestartPolicy
	fatal   bool // its failure reaches the root: it and every ancestor have policy Never
	started atomic.Int32
}

func (w *world) now() time.Duration { return time.Since(w.start) }

func (w *world) inject(p *leafPlan, kind faultKind, err error, value any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.injected = append(w.injected, injection{at: w.now(), path: p.path, kind: kind, err: err, value: value})
}

func runSeed(t *testing.T, seed uint64, verbose bool) {
	synctest.Test(t, func(t *testing.T) {
		w := &world{
			t:       t,
			rnd:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
			start:   time.Now(),
			release: make(chan struct{}),
			sups:    map[string]supConfig{},
			leaves:  map[string]*leafPlan{},
		}
		const budget = 5 * time.Second
		root := w.supervisor("app", "app", 0, budget, true)
		if verbose {
			t.Logf("seed %d tree:\n%s", seed, w.verbose.String())
		}
		stopAt := time.Duration(1+w.rnd.IntN(60)) * time.Second
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- root.Run(ctx) }()

		// Concurrent StartService while running and while stopping.
		var adders sync.WaitGroup
		defer adders.Wait()
		addAt := stopAt - time.Duration(w.rnd.IntN(2))*time.Second
		adders.Go(func() {
			time.Sleep(addAt)
			for i := range 3 {
				err := root.StartService(fmt.Sprintf("late%d", i), shepherd.ServiceFunc(func(ctx context.Context) error {
					<-ctx.Done()
					return ctx.Err()
				}))
				if err != nil && !errors.Is(err, shepherd.ErrClosed) {
					t.Errorf("seed %d: StartService while stopping = %v; want nil or ErrClosed", seed, err)
				}
				time.Sleep(time.Second)
			}
		})

		timer := time.NewTimer(stopAt)
		var err error
		select {
		case err = <-done:
			timer.Stop()
		case <-timer.C:
			cancel()
			// Invariant 1: Run returns within the budget of every level it
			// may have to wait out, plus restarts in flight.
			bound := time.NewTimer(time.Duration(6) * budget)
			select {
			case err = <-done:
				bound.Stop()
			case <-bound.C:
				close(w.release)
				t.Fatalf("seed %d: Run did not return within %v of the stop", seed, 6*budget)
			}
		}
		// Let goroutines that are on their way out (a task past its
		// WaitGroup.Done, an AfterFunc callback) finish: only goroutines
		// blocked for good are left.
		synctest.Wait()
		w.check(seed, root, err, stopAt)
		if verbose && t.Failed() {
			for _, e := range w.events {
				t.Logf("%v %s %v %v", e.Time.Sub(w.start), e.Path, e.State, e.Err)
			}
		}
		close(w.release)
		// Let slow stoppers that the budget cut short finish too.
		time.Sleep(time.Minute)
		// The pools' books are complete only once every handler returned.
		w.checkPools(func(format string, args ...any) {
			t.Errorf("seed %d: "+format+"\n(rerun: go test -run TestStress -stress.seed=%d -v)", append(append([]any{seed}, args...), seed)...)
		})
		// Every goroutine of the tree has now returned, or the bubble
		// would end with blocked goroutines and synctest fail the test.
	})
}

// supervisor builds a supervisor at path with random services below it.
func (w *world) supervisor(name, path string, depth int, budget time.Duration, fatal bool) *shepherd.Supervisor {
	maxR := 1 + w.rnd.IntN(5)
	per := time.Duration(5+w.rnd.IntN(20)) * time.Second
	w.sups[path] = supConfig{max: maxR, per: per}
	strategy := shepherd.Strategy(w.rnd.IntN(3))
	fmt.Fprintf(&w.verbose, "%*s%s supervisor %v MaxRestarts(%d, %v)\n", 2*depth, "", path, strategy, maxR, per)
	sup := shepherd.NewSupervisor(name,
		shepherd.ShutdownTimeout(budget),
		shepherd.MaxRestarts(maxR, per),
		strategy,
		shepherd.OnEvent(w.record))
	fanout := 1 + w.rnd.IntN(min(20, 6+depth*2))
	switch {
	case w.rnd.IntN(10) == 0:
		fanout = 1 + w.rnd.IntN(20) // now and then a wide one, at any depth
	case depth == 0:
		fanout = 2 + w.rnd.IntN(6)
	}
	for i := range fanout {
		name := fmt.Sprintf("s%d", i)
		childPath := path + "/" + name
		policy := shepherd.RestartPolicy(w.rnd.IntN(3))
		opts := []shepherd.ServiceOption{shepherd.Restart(policy),
			shepherd.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second, Jitter: 0.5}}
		if depth < 3 && w.rnd.IntN(5) == 0 {
			// A nested supervisor has a smaller budget, so that it can
			// report its own stuck services within its parent's.
			sub := w.supervisor(name, childPath, depth+1, budget*8/10, fatal && policy == shepherd.Never)
			sup.Add(name, sub, opts...)
			continue
		}
		p := w.leaf(childPath, depth+1, policy, fatal)
		if p.kind == faultPool {
			// A Pool runs once: it cannot be restarted.
			opts[0] = shepherd.Restart(shepherd.Never)
			p.policy = shepherd.Never
			p.fatal = fatal
			sup.Add(name, w.pool(p, budget), append(opts, shepherd.AwaitReady(30*time.Second))...)
			continue
		}
		if p.kind == faultStorm {
			opts[0] = shepherd.Restart(shepherd.Always)
			p.policy = shepherd.Always
			p.fatal = false
		}
		sup.Add(name, w.service(p, budget), opts...)
	}
	return sup
}

func (w *world) record(e shepherd.Event) {
	w.mu.Lock()
	w.events = append(w.events, e)
	w.mu.Unlock()
}

func (w *world) leaf(path string, depth int, policy shepherd.RestartPolicy, fatal bool) *leafPlan {
	kind := faultKind(w.rnd.IntN(int(numFaultKinds)))
	if w.rnd.IntN(3) == 0 {
		kind = faultNone
	}
	p := &leafPlan{
		path:   path,
		kind:   kind,
		at:     time.Duration(w.rnd.IntN(60_000)) * time.Millisecond,
		policy: policy,
		fatal:  fatal && policy == shepherd.Never,
	}
	w.leaves[path] = p
	fmt.Fprintf(&w.verbose, "%*s%s %s at %v, %v\n", 2*depth, "", path, faultNames[kind], p.at, policy)
	return p
}

// service makes the leaf's Service: a Group of tasks that wait for the
// context, with the planned fault.
func (w *world) service(p *leafPlan, budget time.Duration) shepherd.Service {
	run := func(ctx context.Context) error {
		n := p.started.Add(1)
		g := shepherd.NewGroup(ctx, shepherd.Limit(5))
		for i := range 1 + int(n)%3 {
			g.Go(fmt.Sprintf("task%d", i), func(ctx context.Context) error {
				<-ctx.Done()
				return ctx.Err()
			})
		}
		g.Go("spawner", func(ctx context.Context) error { return w.spawn(ctx, p) })
		g.Go("fault", func(ctx context.Context) error { return w.fault(ctx, p, n, budget) })
		if err := g.Wait(); !errors.Is(err, errFinish) {
			return err
		}
		return nil // the service finished
	}
	if p.kind == faultHangStop {
		return &hangStopper{w: w, p: p, run: run}
	}
	return shepherd.ServiceFunc(run)
}

// spawn starts short tasks in a Group of its own, over and over, until its
// context ends, so that Go races the stop of the tree. When Wait returns,
// every task Go started must have returned, and a Go after the context
// ended must not have started its task.
func (w *world) spawn(ctx context.Context, p *leafPlan) error {
	g := shepherd.NewGroup(ctx)
	var running, late atomic.Int32
	for i := 0; ; i++ {
		// The group's context is cancelled a moment after ctx, its
		// parent: what Go promises is about the group's.
		done := g.Context().Err() != nil
		g.Go(fmt.Sprintf("spawned%d", i), func(ctx context.Context) error {
			running.Add(1)
			defer running.Add(-1)
			if done {
				late.Add(1)
			}
			if i%4 == 0 {
				time.Sleep(time.Duration(1+i%3) * time.Millisecond)
			}
			return nil
		})
		if done {
			break
		}
		t := time.NewTimer(time.Duration(50+i*37%500) * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	err := g.Wait()
	if n := running.Load(); n != 0 {
		w.t.Errorf("%s: %d spawned tasks still running after Wait returned", p.path, n)
	}
	if n := late.Load(); n != 0 {
		w.t.Errorf("%s: Go started %d tasks after the group's context ended", p.path, n)
	}
	if err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

// fault carries out the plan of p in its n-th run, inside a Group task.
func (w *world) fault(ctx context.Context, p *leafPlan, n int32, budget time.Duration) error {
	wait := func(d time.Duration) bool { // reports false if ctx ended first
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	unique := func(kind string) error {
		return fmt.Errorf("%s in %s run %d at %v", kind, p.path, n, w.now())
	}
	switch p.kind {
	case faultStorm:
		err := unique("storm")
		w.inject(p, p.kind, err, nil)
		return err
	case faultNone, faultHangStop:
		<-ctx.Done()
		return ctx.Err()
	}
	hangs := p.kind == faultSlowStop || p.kind == faultStuck
	if !hangs && (n > 1 || !wait(max(0, p.at-w.now()))) {
		// The fault happens once, on the first run; a stop before it
		// means it never happens.
		<-ctx.Done()
		return ctx.Err()
	}
	switch p.kind {
	case faultError, faultGroupTask:
		err := unique(faultNames[p.kind])
		w.inject(p, p.kind, err, nil)
		return err
	case faultPanicErr:
		err := unique("panic")
		w.inject(p, p.kind, err, err)
		panic(err)
	case faultPanicVal:
		v := "panic value " + unique("v").Error()
		w.inject(p, p.kind, nil, v)
		panic(v)
	case faultGoexit:
		w.inject(p, p.kind, shepherd.ErrGoexit, nil)
		runtime.Goexit()
	case faultFinish:
		// The whole service finishes: the task returns nil, and so do
		// its siblings once cancelled; the Group reports the cancel as
		// an echo, so the service returns nil.
		return errFinish
	}
	// Slow or stuck on stop: wait for the stop, then ignore it.
	<-ctx.Done()
	if p.kind == faultSlowStop {
		time.Sleep(budget / 20)
		return ctx.Err()
	}
	w.inject(p, p.kind, nil, nil)
	<-w.release
	return ctx.Err()
}

var errFinish = errors.New("finish")

// hangStopper is a service whose Stop hangs until the world ends.
type hangStopper struct {
	w   *world
	p   *leafPlan
	run func(ctx context.Context) error
}

func (h *hangStopper) Run(ctx context.Context) error { return h.run(ctx) }
func (h *hangStopper) Stop(ctx context.Context) error {
	h.w.inject(h.p, faultHangStop, nil, nil)
	<-h.w.release
	return nil
}

// check verifies the invariants after Run returned err.
func (w *world) check(seed uint64, root *shepherd.Supervisor, err error, stopAt time.Duration) {
	t := w.t
	w.mu.Lock()
	injected := slices.Clone(w.injected)
	events := slices.Clone(w.events)
	w.mu.Unlock()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("seed %d: "+format+"\n(rerun: go test -run TestStress -stress.seed=%d -v)", append(append([]any{seed}, args...), seed)...)
	}

	// Invariant 2: the goroutines still running are exactly those of the
	// services the StuckError names.
	var stuck *shepherd.StuckError
	errors.As(err, &stuck)
	stuckPaths := map[string]bool{}
	if stuck != nil {
		for _, st := range stuck.Tasks {
			stuckPaths[st.Path] = true
		}
	}
	for _, g := range goroutines.All() {
		if !strings.HasPrefix(g.Path, "app") {
			continue
		}
		owned := false
		for p := range stuckPaths {
			if g.Path == p || strings.HasPrefix(g.Path, p+"/") {
				owned = true
			}
		}
		// A nested supervisor that reported its own stuck services has
		// returned; its stuck goroutines are named in the error it
		// returned, which is wrapped in err.
		if !owned && !nestedStuck(err, g.Path) {
			fail("goroutine of %s still running after Run returned, not named by a StuckError: %v\nRun() = %v", g.Path, g.Frames[:min(2, len(g.Frames))], err)
		}
	}
	// Every stuck service in the report was one that was planned to hang.
	for p := range stuckPaths {
		if !w.plannedToHang(p) {
			fail("%s reported stuck, but nothing under it was planned to hang (err: %v)", p, err)
		}
	}

	// Invariant 4a: the first failure reported is the first fatal fault in
	// time, unless a restart storm crossed a limit first.
	var fatal []injection
	for _, in := range injected {
		// Faults from the moment the stop was requested on may come after
		// the stop's own reports, or never be reported at all.
		if p := w.leaves[in.path]; p != nil && p.fatal && isFailure(in.kind) && in.at < stopAt {
			fatal = append(fatal, in)
		}
	}
	var first error
	if errs := unwrapMulti(err); len(errs) > 0 {
		first = errs[0]
	}
	if len(fatal) > 0 {
		want := fatal[0]
		var rl *shepherd.RestartLimitError
		var se *shepherd.StuckError
		// when returns the time, from the start, of the earliest event
		// that keep selects, and whether there is one.
		when := func(keep func(shepherd.Event) bool) (time.Duration, bool) {
			for _, e := range events {
				if keep(e) {
					return e.Time.Sub(w.start), true
				}
			}
			return 0, false
		}
		switch {
		case first == nil:
			fail("Run() = nil; want the first fatal fault %s of %s at %v", faultNames[want.kind], want.path, want.at)
		case matches(first, want):
		case errors.As(first, &rl):
			// A storm below may cross a limit first: the failure that
			// crossed it must not come after the first fatal fault.
			at, ok := when(func(e shepherd.Event) bool {
				return e.Path == rl.Service && e.State == shepherd.StateFailed &&
					(e.Err == rl.Last || errors.Is(e.Err, rl.Last) || errors.Is(rl.Last, e.Err))
			})
			if !ok || at > want.at {
				fail("first error %v (found at %v: %v); want the first fatal fault %s of %s at %v", first, at, ok, faultNames[want.kind], want.path, want.at)
			}
		case errors.As(first, &se):
			// A restart below may find a service that will not stop,
			// which fails its supervisor: also not after the first fatal
			// fault.
			at, ok := when(func(e shepherd.Event) bool {
				return e.State == shepherd.StateStuck && slices.ContainsFunc(se.Tasks, func(t shepherd.StuckTask) bool { return t.Path == e.Path })
			})
			if !ok || at > want.at {
				fail("first error %v (stuck at %v: %v); want the first fatal fault %s of %s at %v", first, at, ok, faultNames[want.kind], want.path, want.at)
			}
		default:
			// Two fatal faults in the same instant may be reported in
			// either order.
			if len(fatal) < 2 || fatal[1].at != want.at || !matches(first, fatal[1]) {
				fail("first error %v; want the first fatal fault %s of %s at %v", first, faultNames[want.kind], want.path, want.at)
			}
		}
	}

	// Invariant 4b: every panic that happened shows as a *PanicError in an
	// event of its service.
	for _, in := range injected {
		if in.kind != faultPanicErr && in.kind != faultPanicVal {
			continue
		}
		found := false
		for _, e := range events {
			var pe *shepherd.PanicError
			if errors.As(e.Err, &pe) && pe.Value == in.value {
				found = true
				break
			}
		}
		if !found {
			fail("panic %v in %s at %v never reported as a *PanicError", in.value, in.path, in.at)
		}
	}

	// Invariant 5: no supervisor restarted its services more often than
	// its intensity allows, in any one of its runs (a supervisor restarted
	// by its parent starts afresh, as in OTP).
	restarts := map[string][]time.Time{}
	runs := map[string]int{}
	for _, e := range events {
		switch e.State {
		case shepherd.StateStarting:
			runs[e.Path]++
		case shepherd.StateRestarting:
			parent := e.Path[:strings.LastIndexByte(e.Path, '/')]
			key := parent + "#" + strconv.Itoa(runs[parent])
			restarts[key] = append(restarts[key], e.Time)
		}
	}
	for key, times := range restarts {
		sup := key[:strings.IndexByte(key, '#')]
		cfg, ok := w.sups[sup]
		if !ok {
			fail("restart event under unknown supervisor %s", sup)
			continue
		}
		for i := range times {
			in := 0
			for _, u := range times[i:] {
				if u.Sub(times[i]) < cfg.per {
					in++
				}
			}
			if in > cfg.max {
				fail("%s restarted %d services within %v; MaxRestarts is %d", sup, in, cfg.per, cfg.max)
				break
			}
		}
	}
}

func isFailure(k faultKind) bool {
	switch k {
	case faultError, faultPanicErr, faultPanicVal, faultGoexit, faultGroupTask:
		return true
	}
	return false
}

// matches reports whether err is the failure in.
func matches(err error, in injection) bool {
	if in.value != nil {
		var pe *shepherd.PanicError
		return errors.As(err, &pe) && pe.Value == in.value
	}
	if in.kind == faultGoexit {
		for _, e := range unwrapAll(err) {
			if te, ok := e.(*shepherd.TaskError); ok && te.Err == shepherd.ErrGoexit && strings.HasPrefix(te.Path, in.path) {
				return true
			}
		}
		return false
	}
	return errors.Is(err, in.err)
}

// plannedToHang reports whether some service at or below path ignores its
// context when stopped: for good (stuck, hang-stop), or for a while
// (slow-stop), which is stuck too when a sibling's hang left no budget; a
// pool's handlers sometimes ignore it for good.
func (w *world) plannedToHang(path string) bool {
	for p, l := range w.leaves {
		if (p == path || strings.HasPrefix(p, path+"/")) && (l.kind == faultStuck || l.kind == faultHangStop || l.kind == faultSlowStop || l.kind == faultPool) {
			return true
		}
	}
	return false
}

// nestedStuck reports whether err carries a StuckError, from a nested
// supervisor, that names path or one of its ancestors.
func nestedStuck(err error, path string) bool {
	for _, e := range unwrapAll(err) {
		if se, ok := e.(*shepherd.StuckError); ok {
			for _, t := range se.Tasks {
				if path == t.Path || strings.HasPrefix(path, t.Path+"/") {
					return true
				}
			}
		}
	}
	return false
}

// unwrapMulti returns the errors a combined error holds, first first.
func unwrapMulti(err error) []error {
	if err == nil {
		return nil
	}
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		return m.Unwrap()
	}
	return []error{err}
}

// unwrapAll returns every error in err's tree.
func unwrapAll(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			out = append(out, unwrapAll(x)...)
		}
	case interface{ Unwrap() error }:
		out = append(out, unwrapAll(e.Unwrap())...)
	}
	return out
}

// poolPlan is a Pool leaf and its books: which items Submit accepted, and
// how often each was handled or handed back.
type poolPlan struct {
	pool *shepherd.Pool[int]
	rnd  *rand.Rand // for the handlers; guarded by mu

	mu         sync.Mutex
	accepted   map[int]bool
	handled    map[int]int
	handedBack map[int]int
}

// poolService runs a Pool and the submitters that feed it; a Supervisor
// stops it through the pool's drain.
type poolService struct {
	p       *poolPlan
	submits int
	w       *world
}

func (w *world) pool(p *leafPlan, budget time.Duration) shepherd.Service {
	pp := &poolPlan{
		rnd:        rand.New(rand.NewPCG(w.rnd.Uint64(), 1)),
		accepted:   map[int]bool{},
		handled:    map[int]int{},
		handedBack: map[int]int{},
	}
	w.pools = append(w.pools, pp)
	workers := 1 + w.rnd.IntN(4)
	queue := w.rnd.IntN(8)
	pp.pool = shepherd.NewPool(p.path[strings.LastIndexByte(p.path, '/')+1:], workers, func(ctx context.Context, id int) error {
		pp.mu.Lock()
		pp.handled[id]++
		r := pp.rnd.IntN(100)
		d := time.Duration(pp.rnd.IntN(400)) * time.Millisecond
		pp.mu.Unlock()
		switch {
		case r < 10:
			return fmt.Errorf("item %d failed", id)
		case r < 15:
			panic(fmt.Sprintf("item %d panicked", id))
		case r < 20:
			time.Sleep(d) // ignores its context for a while
			return nil
		case r < 22:
			<-w.release // ignores its context for good
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			// Interrupted by the stop: not handled, so the pool hands
			// the item back.
			pp.mu.Lock()
			pp.handled[id]--
			pp.mu.Unlock()
			return ctx.Err()
		}
	}, shepherd.QueueSize(queue)).OnUnprocessed(func(id int) {
		pp.mu.Lock()
		pp.handedBack[id]++
		pp.mu.Unlock()
	})
	fmt.Fprintf(&w.verbose, "    (pool: %d workers, queue %d)\n", workers, queue)
	return &poolService{p: pp, submits: 1 + w.rnd.IntN(3), w: w}
}

func (ps *poolService) Run(ctx context.Context) error {
	g := shepherd.NewGroup(ctx)
	var next atomic.Int64
	for i := range ps.submits {
		g.Go(fmt.Sprintf("submitter%d", i), func(ctx context.Context) error {
			tick := time.NewTicker(time.Duration(20+10*i) * time.Millisecond)
			defer tick.Stop()
			for {
				id := int(next.Add(1))
				err := ps.p.pool.Submit(ctx, id)
				switch {
				case err == nil:
					ps.p.mu.Lock()
					ps.p.accepted[id] = true
					ps.p.mu.Unlock()
				case errors.Is(err, shepherd.ErrClosed) || ctx.Err() != nil:
					return nil
				default:
					return err
				}
				select {
				case <-tick.C:
				case <-ctx.Done():
					return nil
				}
			}
		})
	}
	g.Go("pool", ps.p.pool.Run)
	return g.Wait()
}

func (ps *poolService) Stop(ctx context.Context) error { return ps.p.pool.Stop(ctx) }

// checkPools verifies invariant 3: every item a pool accepted was handled
// exactly once or handed back exactly once, and no other item was.
func (w *world) checkPools(fail func(string, ...any)) {
	for i, pp := range w.pools {
		pp.mu.Lock()
		for id, n := range pp.handled {
			if !pp.accepted[id] {
				fail("pool %d: item %d handled %d times but never accepted", i, id, n)
			}
		}
		for id := range pp.accepted {
			if h, b := pp.handled[id], pp.handedBack[id]; h+b != 1 {
				fail("pool %d: accepted item %d handled %d times and handed back %d times; want exactly once in all", i, id, h, b)
			}
		}
		for id := range pp.handedBack {
			if !pp.accepted[id] {
				fail("pool %d: item %d handed back but never accepted", i, id)
			}
		}
		st := pp.pool.Stats()
		if st.Submitted != int64(len(pp.accepted)) || st.Queued != 0 || st.InFlight != 0 ||
			st.Done+st.Failed+st.Panicked+st.HandedBack != st.Submitted {
			fail("pool %d: Stats %+v do not add up for %d accepted items", i, st, len(pp.accepted))
		}
		pp.mu.Unlock()
	}
}
