package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// A metric is one unit of benchstat's output and how to show it.
type metric struct {
	unit   string // as benchstat names it, such as "sec/task"
	label  string
	scale  float64 // applied to the median before printing
	format string
	higher bool // a higher value is better
}

var (
	nsPerTask     = metric{"sec/task", "time per task", 1e9, "%.0f ns", false}
	allocsPerTask = metric{"allocs/task", "allocs per task", 1, "%.2f", false}
	efficiency    = metric{"efficiency", "efficiency (ideal/actual)", 1, "%.3f", true}
	cancelLatency = metric{"sec/cancel", "failure → Wait returned", 1e6, "%.0f µs", false}
	restartRate   = metric{"restarts/s", "restarts per second", 1, "%.0f", true}
	nsPerRestart  = metric{"sec/op", "time per restart", 1e9, "%.0f ns", false}
	bytesPerTask  = metric{"B/task", "heap + stack per idle task", 1, "%.0f B", false}
	nsPerService  = metric{"sec/service", "add + start + stop per service", 1e9, "%.0f ns", false}
)

// paired is the unit of the ratio each library's sub-benchmark measures
// against raw batch by batch (see perTask in the suite).
const paired = "raw-ratio"

// A workload is one Benchmark function of the suite.
type workload struct {
	id, bench, title, what string
	// baseline says in one line what raw is in this workload, so that no
	// ratio is read against a different mechanism than the one it measures.
	baseline string
	// profile says where shepherd's time goes beyond the baseline's, from
	// a CPU profile of its sub-benchmark, for a workload whose target the
	// library has not reached: what it would take, not an excuse.
	profile string
	metrics []metric // the first is the one paired with raw, if any
	targets []target
	custom  func(io.Writer, *results) // renders the table instead of table
}

// A target compares a measured figure with the goal the suite holds
// shepherd to.
type target struct {
	desc string
	// eval returns the measured figure, as shown, and whether it meets the
	// target; ok is false when the figures needed are missing.
	eval func(r *results) (got string, met, ok bool)
}

var workloads = []workload{
	{
		id: "W1", bench: "SpawnWait", title: "spawn-wait",
		what:     "10,000 tiny tasks (an atomic add each), then wait for all. shepherd runs them with names, pprof labels and panic recovery.",
		baseline: "raw is a go statement per task and a sync.WaitGroup, the task a closure built once, as every library's is; errgroup (no names, labels or recovery) is the peer the target names.",
		profile: "Profile it with `cd bench && go test -run NONE -bench 'SpawnWait/shepherd$' -cpuprofile cpu.out && go tool pprof -top cpu.out`. W1p splits the task into its parts: the pprof label and the recover cost about what errgroup's whole task does beyond raw, " +
			"and the label set (SetGoroutineLabels, a lookup in the task's context) is the larger of the two; the labels stay, since they are what makes every goroutine findable.",
		metrics: []metric{nsPerTask, allocsPerTask},
		targets: []target{
			timeTarget("SpawnWait", nsPerTask, "shepherd", "raw", 1.15, "shepherd ≤ 1.15× raw"),
			timeTarget("SpawnWait", nsPerTask, "shepherd", "errgroup", 1, "shepherd no slower than errgroup"),
			allocsTarget("SpawnWait/shepherd", "SpawnWait/errgroup", "shepherd allocations per task ≤ errgroup's"),
		},
	},
	{
		id: "W1p", bench: "SpawnParts", title: "spawn-wait, part by part",
		what: "W1's batch, with raw's task given one part of a shepherd task at a time: the pprof label, set as the task starts " +
			"(raw-labels); a deferred recover (raw-recover); both (raw-labels-recover). What shepherd adds over raw-labels-recover " +
			"is its own bookkeeping: counting the task, checking the group's context before starting it, collecting failures.",
		baseline: "raw is W1's: a go statement per task and a sync.WaitGroup, the task a closure built once.",
		metrics:  []metric{nsPerTask, allocsPerTask},
	},
	{
		id: "W2", bench: "BoundedPool", title: "bounded pool",
		what: "100,000 tiny items through 8 workers. raw is 8 goroutines reading a channel buffered like a Pool's default queue " +
			"(16 per worker: 128 items); raw-unbuffered, the same on an unbuffered channel, is shown for reference only " +
			"and is no baseline. shepherd is Pool[int] with its default queue, " +
			"shepherd-group a Group with Limit(8) (a goroutine per item, like errgroup.SetLimit), shepherd-foreach ForEach over a slice; " +
			"ants is its typed PoolWithFuncGeneric, pond and conc their bounded pools. Every library's per-item functions are built before the timed loop.",
		profile: "Profile it with `cd bench && go test -run NONE -bench 'BoundedPool/shepherd$' -cpuprofile cpu.out && go tool pprof -top cpu.out`. Most of the time is the channel send and receive, which raw pays too; " +
			"the Pool's own share is the check of the handlers' context before each item (the promise that no item starts once Run's context is done), " +
			"the select of a Submit that finds the queue full, the second atomic of Submit's closing protocol and the per-worker counters. " +
			"Dropping the closing atomic needs a count taken when a worker receives an item: another atomic per item.",
		metrics: []metric{nsPerTask, allocsPerTask},
		targets: []target{
			timeTarget("BoundedPool", nsPerTask, "shepherd", "raw", 1.10, "shepherd Pool ≤ 1.10× raw (buffered like its queue)"),
			maxTarget(allocsPerTask, "BoundedPool/shepherd", 0.005, "shepherd Pool: 0 allocations per item"),
			timeTarget("BoundedPool", nsPerTask, "shepherd", "pond", 1, "shepherd Pool ahead of pond"),
			timeTarget("BoundedPool", nsPerTask, "shepherd", "ants", 1, "shepherd Pool ahead of ants"),
			timeTarget("BoundedPool", nsPerTask, "shepherd", "conc", 1, "shepherd Pool ahead of conc"),
		},
	},
	{
		id: "W2b", bench: "ForEach", title: "index batch",
		what: "100,000 tiny items on 8 workers that take the next index from a shared atomic counter: shepherd's ForEach and Map, " +
			"conc's iter. shepherd recovers a panic in any item and names the item, and stops taking items once ctx is done, checking it before each item; raw-ctx is raw with that check, an extra that shows its cost; conc-iter checks no context.",
		baseline: "raw is 8 goroutines taking indexes from an atomic counter, what ForEach does; raw-map also stores each result, " +
			"and shepherd-map and conc-iter-map are paired with it, not with raw.",
		profile: "Profile it with `cd bench && go test -run NONE -bench 'ForEach/shepherd' -cpuprofile cpu.out && go tool pprof -top cpu.out`. The check of the context before each item costs about as much as a tiny item itself " +
			"(raw-ctx shows it); the rest is the indirect call of fn and the worker's bookkeeping. " +
			"A flag set by context.AfterFunc would be cheaper, but it is set asynchronously, so items could keep starting after a cancel.",
		metrics: []metric{nsPerTask, allocsPerTask},
		targets: []target{
			timeTarget("ForEach", nsPerTask, "shepherd-foreach", "raw", 1.15, "ForEach ≤ 1.15× the atomic-index loop"),
			timeTarget("ForEach", nsPerTask, "shepherd-map", "raw-map", 1.15, "Map ≤ 1.15× the atomic-index loop storing results"),
		},
	},
	{
		id: "W2c", bench: "LimitedGroup", title: "limited group",
		what: "10,000 tiny tasks, a goroutine each, at most 8 at once: a Group with Limit(8), errgroup with SetLimit(8).",
		baseline: "raw is a sync.WaitGroup with a buffered channel of 8 slots as the semaphore, taken before each go statement " +
			"and given back as the task ends; errgroup with SetLimit is the peer the target names.",
		metrics: []metric{nsPerTask, allocsPerTask},
		targets: []target{
			timeTarget("LimitedGroup", nsPerTask, "shepherd", "errgroup", 1, "Group with Limit no slower than errgroup with SetLimit"),
		},
	},
	{
		id: "W3", bench: "IOBound", title: "IO-bound",
		what: "2,000 items that each sleep 1 ms, on 64 workers. Efficiency is the ideal wall time " +
			"(32 rounds of one sleep, as long as a 1 ms sleep takes on this machine, measured first) over the actual one: 1 is perfect.",
		metrics: []metric{nsPerTask, efficiency},
		targets: []target{
			efficiencyTarget("shepherd", "shepherd Pool efficiency no worse than raw's"),
			efficiencyTarget("shepherd-group", "shepherd Group efficiency no worse than raw's"),
			efficiencyTarget("shepherd-foreach", "shepherd ForEach efficiency no worse than raw's"),
		},
	},
	{
		id: "W4", bench: "CancelLatency", title: "cancel latency",
		what: "999 tasks blocked on their context, then one fails. The time from just before the failing task returns " +
			"to Wait returning, median over the iterations of each sample. Tasks other than raw's return ctx.Err(), as such tasks do.",
		baseline: "raw is a go statement per task, a sync.WaitGroup, and a context.WithCancelCause that the failing task cancels.",
		metrics:  []metric{cancelLatency},
		targets: []target{
			timeTarget("CancelLatency", cancelLatency, "shepherd", "raw", 1.2, "shepherd ≤ 1.2× raw"),
		},
	},
	{
		id: "W5", bench: "PanicRecovery", title: "panic recovery",
		what: "10,000 tasks that each panic (after a gate that opens once all are started, so that libraries stopping at the " +
			"first failure still run them all). raw recovers and keeps nothing; raw-callers also records the stack's program " +
			"counters; shepherd returns a *PanicError with the stack for every task; conc keeps the first panic with its stack, " +
			"pond formats a stack for every task, ants calls a panic handler.",
		baseline: "raw-callers is the baseline the target names: a go statement per task with a deferred recover that records " +
			"the stack's program counters (runtime.Callers), what shepherd keeps of every panic; plain raw keeps nothing.",
		profile: "Profile it with `cd bench && go test -run NONE -bench 'PanicRecovery/shepherd$' -cpuprofile cpu.out && go tool pprof -top cpu.out`. runtime.Callers and the heap and GC pressure of one *PanicError per panic, " +
			"the group's lock in fail, and the cost of spawning each task (see W1p).",
		metrics: []metric{nsPerTask, allocsPerTask},
		targets: []target{
			timeTarget("PanicRecovery", nsPerTask, "shepherd", "raw-callers", 1.2, "shepherd ≤ 1.2× raw-callers, stacks captured"),
			ownAllocsTarget("PanicRecovery/shepherd", "PanicRecovery/raw-callers", 3,
				"shepherd ≤ 3 allocations per panic of its own (beyond raw-callers', which are the runtime's)"),
		},
	},
	{
		id: "W6", bench: "RestartRate", title: "restart rate",
		what: "A service that fails as soon as it starts, restarted at once (no backoff, restart limits out of the way), " +
			"b.N times under one supervisor.",
		baseline: "raw is a loop that runs the service in a fresh goroutine with recover; suture is the peer the target names.",
		profile: "Profile it with `cd bench && go test -run NONE -bench 'RestartRate/shepherd$' -cpuprofile cpu.out && go tool pprof -top cpu.out`. The goroutine of the run that ended decides the restart itself, under the lock that guards the supervisor's state, while the supervisor's loop sleeps " +
			"(the loop takes every exit it cannot carry out without waiting: readiness, a restart of siblings): no goroutine switch, no new goroutine, no timer. " +
			"What remains is the decision and the start of the next run: locks (the supervisor's mutex, about six times, and the event queue's: about a fifth of the CPU), " +
			"GC and allocation of the 384 B a restart allocates (the run record, its done channel, the run's cancellable context, which keeps context.Cause), " +
			"and one time.Now; suture hands every exit to its loop and starts a goroutine per run.",
		metrics: []metric{restartRate, nsPerRestart},
		targets: []target{
			valueTarget(restartRate, "RestartRate/shepherd", "RestartRate/suture", 0.5, "shepherd ≥ 1.5× suture's restarts per second"),
		},
	},
	{id: "W7", bench: "Scale", title: "scale", custom: scale, targets: []target{scaleTarget}},
	{
		id: "W9", bench: "WeightedGroup", title: "weighted group",
		what: "10,000 tiny tasks of weights 1 to 64 under a budget of 256. raw is what is built by hand: errgroup with " +
			"semaphore.Weighted, Acquire before g.Go and Release when the task returns; shepherd is a Group with Budget(256) and GoWeighted.",
		profile: "Profile it with `cd bench && go test -run NONE -bench 'WeightedGroup/shepherd$' -cpuprofile cpu.out && go tool pprof -top cpu.out`. a weighted task pays for a plain task's label and recover (see W1p) on top of the semaphore both sides share.",
		metrics: []metric{nsPerTask, allocsPerTask},
		targets: []target{
			timeTarget("WeightedGroup", nsPerTask, "shepherd", "raw", 1, "shepherd no slower than errgroup + semaphore by hand"),
		},
	},
	{
		id: "W10", bench: "WeightedPool", title: "weighted pool",
		what: "The same 10,000 weights through 8 workers with at most 256 queued or in flight. raw is a channel of 128 slots " +
			"read by 8 goroutines, with semaphore.Weighted acquired before the send and released after the handler; shepherd " +
			"is Pool[int64] with MaxWeight(256, …) (and its default queue of 128).",
		profile: "Profile it with `cd bench && go test -run NONE -bench 'WeightedPool/shepherd$' -cpuprofile cpu.out && go tool pprof -top cpu.out`. The weighted path adds little to the Pool's own per-item cost (see W2): " +
			"most of the gap to the hand-built channel and semaphore is the Pool's bookkeeping for conservation and statistics.",
		metrics: []metric{nsPerTask, allocsPerTask},
		targets: []target{
			timeTarget("WeightedPool", nsPerTask, "shepherd", "raw", 1, "shepherd no slower than a channel + semaphore by hand"),
		},
	},
	{
		id: "W11", bench: "WeightedAccounting", title: "weighted semaphore",
		what: "The choice behind Budget and MaxWeight: W9's raw group on x/sync's semaphore.Weighted (semaphore) and on raw, " +
			"a FIFO, context-aware weighted semaphore written by hand that keeps its waiters in a slice.",
		metrics: []metric{nsPerTask, allocsPerTask},
	},
	{
		id: "W8", bench: "IdleMemory", title: "memory per idle task",
		what: "100,000 tasks parked on their context: HeapInuse + StackInuse after minus before, per task, " +
			"after a garbage collection and a warm-up batch (so the runtime's reused goroutine descriptors are not counted).",
		baseline: "raw is a go statement per task parked on a context, and a sync.WaitGroup.",
		metrics:  []metric{bytesPerTask},
		targets: []target{
			{desc: "shepherd ≤ raw + 256 B per task", eval: func(r *results) (string, bool, bool) {
				s, ok1 := r.get(bytesPerTask.unit, "IdleMemory/shepherd")
				raw, ok2 := r.get(bytesPerTask.unit, "IdleMemory/raw")
				if !ok1 || !ok2 {
					return "", false, false
				}
				d := s.median - raw.median
				return fmt.Sprintf("raw %+.0f B", d), d <= 256, true
			}},
		},
	},
	{
		id: "W12", bench: "Services", title: "services at scale",
		what: "One supervisor with n trivial services (each waits for its context): Add them all, Run until the last is started, " +
			"Stop. Time per service over the three phases, a row per n; linear means flat.",
		metrics: []metric{nsPerService},
		targets: []target{
			valueTarget(nsPerService, "Services/n=100000", "Services/n=1000", 0.5, "per service at 10⁵ ≤ 1.5× at 10³"),
		},
	},
}

// ratio returns lib's time relative to base's in workload bench: the
// paired ratio when the suite measured one (raw-ratio of lib, divided by
// base's when base was itself paired with raw), and the ratio of the
// medians of m.
func ratio(r *results, bench string, m metric, lib, base string) (pairedQ float64, hasPaired bool, medianQ float64, ok bool) {
	x, ok1 := r.get(m.unit, bench+"/"+lib)
	y, ok2 := r.get(m.unit, bench+"/"+base)
	if !ok1 || !ok2 || y.median == 0 {
		return 0, false, 0, false
	}
	medianQ = x.median / y.median
	px, okx := r.get(paired, bench+"/"+lib)
	// A base with a paired ratio of its own was paired with raw, as lib
	// was: their ratios divide. A raw baseline without one (raw itself,
	// or raw-map in W2b) is what lib was paired with.
	py, oky := r.get(paired, bench+"/"+base)
	if !oky && strings.HasPrefix(base, "raw") {
		py, oky = stat{median: 1}, true
	}
	if okx && oky && py.median != 0 {
		return px.median / py.median, true, medianQ, true
	}
	return 0, false, medianQ, true
}

// timeTarget is met when lib's time is at most limit times base's, judged
// on the paired ratio when there is one (it is the steadier), else on the
// medians.
func timeTarget(bench string, m metric, lib, base string, limit float64, desc string) target {
	return target{desc: desc, eval: func(r *results) (string, bool, bool) {
		p, hasP, q, ok := ratio(r, bench, m, lib, base)
		if !ok {
			return "", false, false
		}
		if hasP {
			return fmt.Sprintf("%.2f× paired (%.2f× of medians)", p, q), p <= limit+1e-9, true
		}
		return fmt.Sprintf("%.2f× of medians", q), q <= limit+1e-9, true
	}}
}

// efficiencyTarget is met when lib's W3 efficiency is at least raw's:
// the ideal time is the same for both, so its efficiency relative to raw's
// is the inverse of the ratio of their times, paired where measured.
func efficiencyTarget(lib, desc string) target {
	return target{desc: desc, eval: func(r *results) (string, bool, bool) {
		x, ok1 := r.get(efficiency.unit, "IOBound/"+lib)
		y, ok2 := r.get(efficiency.unit, "IOBound/raw")
		if !ok1 || !ok2 || y.median == 0 {
			return "", false, false
		}
		q := x.median / y.median
		p, hasP, _, ok := ratio(r, "IOBound", nsPerTask, lib, "raw")
		if ok && hasP && p != 0 {
			return fmt.Sprintf("%.3f× raw's, paired (%.3f× of medians)", 1/p, q), 1/p >= 1-1e-9, true
		}
		return fmt.Sprintf("%.3f× raw's, of medians", q), q >= 1-1e-9, true
	}}
}

// valueTarget compares the medians of m for a and b: a must be no worse
// than b by more than the fraction slack (for a higher-is-better metric,
// a ≥ b·(1+slack) is asked when slack > 0: "1.5× b" is slack 0.5).
func valueTarget(m metric, a, b string, slack float64, desc string) target {
	return target{desc: desc, eval: func(r *results) (string, bool, bool) {
		x, ok1 := r.get(m.unit, a)
		y, ok2 := r.get(m.unit, b)
		if !ok1 || !ok2 || y.median == 0 {
			return "", false, false
		}
		q := x.median / y.median
		if m.higher {
			return fmt.Sprintf("%.2f×", q), q >= 1+slack-1e-9, true
		}
		return fmt.Sprintf("%.2f×", q), q <= 1+slack+1e-9, true
	}}
}

// allocsTarget is met when a allocates no more per task than b, to the
// two decimals shown: a group's own allocations, once per batch, add a
// thousandth or so per task, which is not what the target is about.
func allocsTarget(a, b, desc string) target {
	return target{desc: desc, eval: func(r *results) (string, bool, bool) {
		x, ok1 := r.get(allocsPerTask.unit, a)
		y, ok2 := r.get(allocsPerTask.unit, b)
		if !ok1 || !ok2 {
			return "", false, false
		}
		return fmt.Sprintf("%.2f vs %.2f", x.median, y.median), math.Round(x.median*100) <= math.Round(y.median*100), true
	}}
}

// ownAllocsTarget is met when a allocates at most limit per task more
// than b, whose tasks allocate nothing themselves: what b allocates is the
// runtime's, and varies with the load of the machine.
func ownAllocsTarget(a, b string, limit float64, desc string) target {
	return target{desc: desc, eval: func(r *results) (string, bool, bool) {
		x, ok1 := r.get(allocsPerTask.unit, a)
		y, ok2 := r.get(allocsPerTask.unit, b)
		if !ok1 || !ok2 {
			return "", false, false
		}
		d := x.median - y.median
		return fmt.Sprintf("%.2f (%.2f − %.2f)", d, x.median, y.median), math.Round(d*100) <= limit*100, true
	}}
}

// maxTarget is met when a's median is at most limit.
func maxTarget(m metric, a string, limit float64, desc string) target {
	return target{desc: desc, eval: func(r *results) (string, bool, bool) {
		x, ok := r.get(m.unit, a)
		if !ok {
			return "", false, false
		}
		return fmt.Sprintf(m.format, x.median*m.scale), x.median <= limit, true
	}}
}

func render(w io.Writer, m meta, r *results) {
	fmt.Fprintf(w, "# shepherd benchmark results\n\n")
	fmt.Fprintf(w, "Generated by `bench/run.sh` from benchstat's summary of the run (the raw output is in results.txt beside this file); do not edit by hand.\n\n")
	fmt.Fprintf(w, "| machine | |\n|---|---|\n")
	fmt.Fprintf(w, "| CPUs (nproc) | %s |\n| CPU | %s |\n| Go | %s |\n| date | %s |\n| samples per benchmark (-count) | %s |\n| -benchtime | %s |\n\n",
		m.nproc, orUnknown(r.cpu), m.goVersion, m.date, m.count, m.benchtime)
	if m.peers != "" {
		fmt.Fprintf(w, "Peers: %s.\n\n", strings.Join(strings.Split(strings.TrimSpace(m.peers), "\n"), ", "))
	}
	fmt.Fprintf(w, "%s", strings.Join([]string{
		"How to read this. raw is plain `go` statements and a `sync.WaitGroup` (a channel and N goroutines for pools); ",
		"every library is measured against it in the same run. Each figure is the median of the samples, ",
		"± benchstat's 95% confidence interval. The machine is shared and noisy, so read ratios, not times. ",
		"Two ratios are given: **× raw** is the library's median over raw's median, and **× raw, paired** is measured ",
		"inside the library's own sub-benchmark, which runs a raw batch next to each of its batches (in alternating order) ",
		"and reports the median of the ratios of the two: a slow spell of the machine hits both halves of a pair alike, ",
		"so the paired ratio is the steadier of the two, and the targets are judged on it where it exists.\n\n",
	}, ""))

	summary(w, r)
	for _, wl := range workloads {
		if wl.custom != nil {
			wl.custom(w, r)
			continue
		}
		table(w, wl, r)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// summary lists every target with its verdict.
func summary(w io.Writer, r *results) {
	fmt.Fprintf(w, "## Targets\n\n| workload | target | measured | verdict |\n|---|---|---|---|\n")
	for _, wl := range workloads {
		for _, t := range wl.targets {
			got, met, ok := t.eval(r)
			verdict := "not met"
			switch {
			case !ok:
				got, verdict = "—", "not measured"
			case met:
				verdict = "met"
			}
			fmt.Fprintf(w, "| %s %s | %s | %s | %s |\n", wl.id, wl.title, t.desc, got, verdict)
		}
	}
	fmt.Fprintln(w)
}

// libraries returns the library names of a workload in input order.
func libraries(r *results, bench string) []string {
	var libs []string
	for _, name := range r.order {
		if lib, ok := strings.CutPrefix(name, bench+"/"); ok && !strings.Contains(lib, "/") {
			libs = append(libs, lib)
		}
	}
	return libs
}

// hasPaired reports whether any library of bench reported a paired ratio.
func hasPaired(r *results, bench string, libs []string) bool {
	for _, lib := range libs {
		if _, ok := r.get(paired, bench+"/"+lib); ok {
			return true
		}
	}
	return false
}

func table(w io.Writer, wl workload, r *results) {
	libs := libraries(r, wl.bench)
	fmt.Fprintf(w, "## %s %s (`Benchmark%s`)\n\n%s\n\n", wl.id, wl.title, wl.bench, wl.what)
	if len(libs) == 0 {
		fmt.Fprintf(w, "Not in this run.\n\n")
		return
	}
	withPaired := hasPaired(r, wl.bench, libs)
	fmt.Fprintf(w, "| library |")
	for i, m := range wl.metrics {
		better := "lower is better"
		if m.higher {
			better = "higher is better"
		}
		fmt.Fprintf(w, " %s (%s) | × raw |", m.label, better)
		if i == 0 && withPaired {
			fmt.Fprintf(w, " × raw, paired |")
		}
	}
	fmt.Fprintf(w, "\n|---|")
	for i := range wl.metrics {
		fmt.Fprintf(w, "--:|--:|")
		if i == 0 && withPaired {
			fmt.Fprintf(w, "--:|")
		}
	}
	fmt.Fprintln(w)
	for _, lib := range libs {
		fmt.Fprintf(w, "| %s |", lib)
		for i, m := range wl.metrics {
			cell, q := cells(r, m, wl.bench+"/"+lib, wl.bench+"/raw")
			fmt.Fprintf(w, " %s | %s |", cell, q)
			if i == 0 && withPaired {
				fmt.Fprintf(w, " %s |", pairedCell(r, wl.bench, lib))
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	if wl.baseline != "" {
		fmt.Fprintf(w, "Baseline: %s\n\n", wl.baseline)
	}
	if wl.profile != "" {
		fmt.Fprintf(w, "Where the time goes: %s\n\n", wl.profile)
	}
}

func pairedCell(r *results, bench, lib string) string {
	if lib == "raw" {
		return "1 (baseline)"
	}
	s, ok := r.get(paired, bench+"/"+lib)
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.2f×%s", s.median, ci(s))
}

func ci(s stat) string {
	if s.ci == "" || s.ci == "∞" {
		return ""
	}
	return " ± " + s.ci
}

// cells formats name's median with its interval, and its ratio to base.
func cells(r *results, m metric, name, base string) (cell, ratio string) {
	s, ok := r.get(m.unit, name)
	if !ok {
		return "—", "—"
	}
	cell = fmt.Sprintf(m.format, s.median*m.scale) + ci(s)
	ratio = "—"
	// A baseline that rounds to zero (raw's allocations per item, made
	// once per batch) gives no meaningful ratio.
	if b, ok := r.get(m.unit, base); ok && b.median*m.scale >= 0.01 {
		ratio = fmt.Sprintf("%.2f×", s.median/b.median)
	}
	return cell, ratio
}

var scaleSizes = []string{"1000", "10000", "100000", "1000000"}

// spread is the largest median of unit for lib across batch sizes over
// the smallest; ok is false when a size is missing.
func spread(r *results, unit, lib string) (float64, bool) {
	lo, hi := math.Inf(1), 0.0
	for _, n := range scaleSizes {
		s, ok := r.get(unit, "Scale/tasks="+n+"/"+lib)
		if !ok {
			return 0, false
		}
		lo, hi = min(lo, s.median), max(hi, s.median)
	}
	return hi / lo, true
}

// scaleTarget judges flatness on shepherd's paired ratio to raw at each
// size, like every other target where the pairing exists: the medians of
// time per task move with the machine's load and with the runtime's own cost
// per goroutine at each size, which raw's spread across sizes shows.
var scaleTarget = target{desc: "shepherd's time per task flat within 1.2× from 10³ to 10⁶ tasks", eval: func(r *results) (string, bool, bool) {
	q, ok := spread(r, nsPerTask.unit, "shepherd")
	if !ok {
		return "", false, false
	}
	p, ok := spread(r, paired, "shepherd")
	if !ok {
		return fmt.Sprintf("%.2f× (largest/smallest median)", q), q <= 1.2+1e-9, true
	}
	raw, _ := spread(r, nsPerTask.unit, "raw")
	got := fmt.Sprintf("paired ratio to raw spreads %.2f× (medians: shepherd %.2f×, raw itself %.2f×)", p, q, raw)
	// A spread inside the target says little when a ratio it is made of
	// is itself that uncertain: then flatness is not shown.
	for _, n := range scaleSizes {
		s, _ := r.get(paired, "Scale/tasks="+n+"/shepherd")
		if ci, err := strconv.ParseFloat(strings.TrimSuffix(s.ci, "%"), 64); err != nil || ci > maxScaleCI {
			return got + fmt.Sprintf("; but at %s tasks the paired ratio is ± %s, too uncertain to call it flat", n, s.ci), false, true
		}
	}
	return got, p <= 1.2+1e-9, true
}}

// maxScaleCI is the widest confidence interval, in percent, that a paired
// ratio of W7 may have for the flatness target to be judged met.
const maxScaleCI = 25

// scale renders W7: W1 at several batch sizes.
func scale(w io.Writer, r *results) {
	fmt.Fprintf(w, "## W7 scale (`BenchmarkScale`)\n\nW1 with 10³ to 10⁶ tasks per batch: median time per task, "+
		"then × raw paired at the same size. The last column is the largest of a library's four medians over the smallest: "+
		"1 is perfectly flat. raw itself is not flat on this machine: the runtime's cost per goroutine changes with "+
		"the number in flight, which the paired ratio factors out.\n\n")
	var libs []string
	for _, name := range r.order {
		if rest, ok := strings.CutPrefix(name, "Scale/tasks="+scaleSizes[0]+"/"); ok {
			libs = append(libs, rest)
		}
	}
	if len(libs) == 0 {
		fmt.Fprintf(w, "Not in this run.\n\n")
		return
	}
	fmt.Fprintf(w, "| library | 10³ | 10⁴ | 10⁵ | 10⁶ | largest/smallest |\n|---|--:|--:|--:|--:|--:|\n")
	for _, lib := range libs {
		fmt.Fprintf(w, "| %s |", lib)
		for _, n := range scaleSizes {
			cell, _ := cells(r, nsPerTask, "Scale/tasks="+n+"/"+lib, "Scale/tasks="+n+"/raw")
			fmt.Fprintf(w, " %s (%s) |", cell, pairedCell(r, "Scale/tasks="+n, lib))
		}
		if q, ok := spread(r, nsPerTask.unit, lib); ok {
			fmt.Fprintf(w, " %.2f× |\n", q)
		} else {
			fmt.Fprintf(w, " — |\n")
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Baseline: raw is W1's, a go statement per task and a sync.WaitGroup, at each batch size.\n\n")
}
