package main

import (
	"fmt"
	"io"
	"math"
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
)

// A workload is one Benchmark function of the suite.
type workload struct {
	id, bench, title, what string
	metrics                []metric
	targets                []target
	custom                 func(io.Writer, *results) // renders the table instead of table
}

// A target compares a measured figure with the goal the suite holds
// shepherd to.
type target struct {
	desc string
	// eval returns the measured figure, shown as is, and whether it meets
	// the target; ok is false when the figures needed are missing.
	eval func(r *results) (got string, met, ok bool)
}

var workloads = []workload{
	{
		id: "W1", bench: "SpawnWait", title: "spawn-wait",
		what:    "10,000 tiny tasks (an atomic add each), then wait for all. shepherd runs them with names, pprof labels and panic recovery.",
		metrics: []metric{nsPerTask, allocsPerTask},
		targets: []target{
			ratioTarget(nsPerTask, "SpawnWait/shepherd", "SpawnWait/raw", 1.15, "shepherd ≤ 1.15× raw"),
			ratioTarget(nsPerTask, "SpawnWait/shepherd", "SpawnWait/errgroup", 1, "shepherd no slower than errgroup"),
			ratioTarget(allocsPerTask, "SpawnWait/shepherd", "SpawnWait/errgroup", 1, "shepherd allocations per task ≤ errgroup's"),
		},
	},
	{
		id: "W2", bench: "BoundedPool", title: "bounded pool",
		what: "100,000 tiny items through 8 workers. raw is an unbuffered channel and 8 goroutines; shepherd is Pool[int], " +
			"shepherd-group a Group with Limit(8) (a goroutine per item, like errgroup.SetLimit), shepherd-foreach ForEach over a slice; " +
			"ants is its typed PoolWithFuncGeneric, pond and conc their bounded pools.",
		metrics: []metric{nsPerTask, allocsPerTask},
		targets: []target{
			ratioTarget(nsPerTask, "BoundedPool/shepherd", "BoundedPool/raw", 1.25, "shepherd Pool ≤ 1.25× raw"),
			maxTarget(allocsPerTask, "BoundedPool/shepherd", 0.005, "shepherd Pool: 0 allocations per item"),
		},
	},
	{
		id: "W3", bench: "IOBound", title: "IO-bound",
		what: "2,000 items that each sleep 1 ms, on 64 workers. Efficiency is the ideal wall time " +
			"(32 rounds of one sleep, as long as a 1 ms sleep takes on this machine, measured first) over the actual one: 1 is perfect.",
		metrics: []metric{efficiency, nsPerTask},
		targets: []target{
			ratioTarget(efficiency, "IOBound/shepherd", "IOBound/raw", 1, "shepherd Pool efficiency no worse than raw's"),
			ratioTarget(efficiency, "IOBound/shepherd-group", "IOBound/raw", 1, "shepherd Group efficiency no worse than raw's"),
			ratioTarget(efficiency, "IOBound/shepherd-foreach", "IOBound/raw", 1, "shepherd ForEach efficiency no worse than raw's"),
		},
	},
	{
		id: "W4", bench: "CancelLatency", title: "cancel latency",
		what: "999 tasks blocked on their context, then one fails. The time from just before the failing task returns " +
			"to Wait returning, median over the iterations of each sample.",
		metrics: []metric{cancelLatency},
		targets: []target{
			ratioTarget(cancelLatency, "CancelLatency/shepherd", "CancelLatency/raw", 1.2, "shepherd ≤ 1.2× raw"),
		},
	},
	{
		id: "W5", bench: "PanicRecovery", title: "panic recovery",
		what: "10,000 tasks that each panic (after a gate that opens once all are started, so that libraries stopping at the " +
			"first failure still run them all). raw recovers and keeps nothing; raw-callers also records the stack's program " +
			"counters; shepherd returns a *PanicError with the stack for every task; conc keeps the first panic with its stack, " +
			"pond formats a stack for every task, ants calls a panic handler.",
		metrics: []metric{nsPerTask, allocsPerTask},
		targets: []target{
			ratioTarget(nsPerTask, "PanicRecovery/shepherd", "PanicRecovery/raw", 2, "shepherd ≤ 2× raw, stacks captured"),
		},
	},
	{
		id: "W6", bench: "RestartRate", title: "restart rate",
		what: "A service that fails as soon as it starts, restarted at once (no backoff, restart limits out of the way), " +
			"b.N times under one supervisor. raw is a loop that runs it in a fresh goroutine with recover.",
		metrics: []metric{restartRate, nsPerRestart},
		targets: []target{
			ratioTarget(restartRate, "RestartRate/shepherd", "RestartRate/suture", 1/1.5, "shepherd ≥ 1.5× suture's restarts per second"),
		},
	},
	{id: "W7", bench: "Scale", title: "scale", custom: scale, targets: []target{scaleTarget}},
	{
		id: "W8", bench: "IdleMemory", title: "memory per idle task",
		what: "100,000 tasks parked on their context: HeapInuse + StackInuse after minus before, per task, " +
			"after a garbage collection and a warm-up batch (so the runtime's reused goroutine descriptors are not counted).",
		metrics: []metric{bytesPerTask},
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
}

// ratioTarget is met when a/b ≤ limit for a lower-is-better metric, or
// a/b ≥ 1/limit for a higher-is-better one.
func ratioTarget(m metric, a, b string, limit float64, desc string) target {
	return target{desc: desc, eval: func(r *results) (string, bool, bool) {
		x, ok1 := r.get(m.unit, a)
		y, ok2 := r.get(m.unit, b)
		if !ok1 || !ok2 || y.median == 0 {
			return "", false, false
		}
		q := x.median / y.median
		if m.higher {
			return fmt.Sprintf("%.2f×", q), q >= 1/limit-1e-9, true
		}
		return fmt.Sprintf("%.2f×", q), q <= limit+1e-9, true
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
	fmt.Fprintf(w, "Generated by `bench/run.sh` from benchstat's summary of the run; do not edit by hand.\n\n")
	fmt.Fprintf(w, "| machine | |\n|---|---|\n")
	fmt.Fprintf(w, "| CPUs (nproc) | %s |\n| CPU | %s |\n| Go | %s |\n| date | %s |\n| samples per benchmark (-count) | %s |\n| -benchtime | %s |\n\n",
		m.nproc, orUnknown(r.cpu), m.goVersion, m.date, m.count, m.benchtime)
	if m.peers != "" {
		fmt.Fprintf(w, "Peers: %s.\n\n", strings.Join(strings.Fields(strings.ReplaceAll(m.peers, "\n", ",")), " "))
	}
	fmt.Fprintf(w, "Each figure is the median of the samples; ± is benchstat's 95%% confidence interval around it. "+
		"The machine is shared and noisy, so read the ratios (× raw: the library's median over raw's median "+
		"in the same run) rather than the times. raw is plain `go` statements and a `sync.WaitGroup` "+
		"(a channel and N goroutines for pools).\n\n")

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

func table(w io.Writer, wl workload, r *results) {
	libs := libraries(r, wl.bench)
	fmt.Fprintf(w, "## %s %s (`Benchmark%s`)\n\n%s\n\n", wl.id, wl.title, wl.bench, wl.what)
	if len(libs) == 0 {
		fmt.Fprintf(w, "Not in this run.\n\n")
		return
	}
	fmt.Fprintf(w, "| library |")
	for _, m := range wl.metrics {
		better := "lower is better"
		if m.higher {
			better = "higher is better"
		}
		fmt.Fprintf(w, " %s (%s) | × raw |", m.label, better)
	}
	fmt.Fprintf(w, "\n|---|")
	for range wl.metrics {
		fmt.Fprintf(w, "--:|--:|")
	}
	fmt.Fprintln(w)
	for _, lib := range libs {
		fmt.Fprintf(w, "| %s |", lib)
		for _, m := range wl.metrics {
			cell, ratio := cells(r, m, wl.bench+"/"+lib, wl.bench+"/raw")
			fmt.Fprintf(w, " %s | %s |", cell, ratio)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// cells formats name's median with its interval, and its ratio to base.
func cells(r *results, m metric, name, base string) (cell, ratio string) {
	s, ok := r.get(m.unit, name)
	if !ok {
		return "—", "—"
	}
	cell = fmt.Sprintf(m.format, s.median*m.scale)
	if s.ci != "" && s.ci != "∞" {
		cell += " ± " + s.ci
	}
	ratio = "—"
	if b, ok := r.get(m.unit, base); ok && b.median != 0 {
		ratio = fmt.Sprintf("%.2f×", s.median/b.median)
	}
	return cell, ratio
}

var scaleSizes = []string{"1000", "10000", "100000", "1000000"}

// spread is the largest median time per task of lib across batch sizes
// over the smallest; ok is false when a size is missing.
func spread(r *results, lib string) (float64, bool) {
	lo, hi := math.Inf(1), 0.0
	for _, n := range scaleSizes {
		s, ok := r.get(nsPerTask.unit, "Scale/tasks="+n+"/"+lib)
		if !ok {
			return 0, false
		}
		lo, hi = min(lo, s.median), max(hi, s.median)
	}
	return hi / lo, true
}

var scaleTarget = target{desc: "shepherd's time per task flat within 1.2× from 10³ to 10⁶ tasks", eval: func(r *results) (string, bool, bool) {
	q, ok := spread(r, "shepherd")
	if !ok {
		return "", false, false
	}
	return fmt.Sprintf("%.2f× (largest/smallest)", q), q <= 1.2+1e-9, true
}}

// scale renders W7: W1 at several batch sizes.
func scale(w io.Writer, r *results) {
	fmt.Fprintf(w, "## W7 scale (`BenchmarkScale`)\n\nW1 with 10³ to 10⁶ tasks per batch: time per task (× raw at the same size). "+
		"The last column is the largest of a library's four medians over the smallest: 1 is perfectly flat.\n\n")
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
			cell, ratio := cells(r, nsPerTask, "Scale/tasks="+n+"/"+lib, "Scale/tasks="+n+"/raw")
			fmt.Fprintf(w, " %s (%s) |", cell, ratio)
		}
		if q, ok := spread(r, lib); ok {
			fmt.Fprintf(w, " %.2f× |\n", q)
		} else {
			fmt.Fprintf(w, " — |\n")
		}
	}
	fmt.Fprintln(w)
}
