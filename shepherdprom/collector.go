// Package shepherdprom exports shepherd supervision trees to Prometheus.
//
// A Collector reads the trees when Prometheus scrapes: the state, start
// time and restarts of every service, and the counters of every Pool, come
// from Snapshot at that moment, so a program that is never scraped pays
// nothing for them. Two more sources are opt-in because they cost a little
// on a path that runs often:
//
//   - Failures and panics by path and kind need the tree's events: pass
//     shepherd.OnEvent(c.OnEvent) to the root supervisor.
//   - Histograms of each item's queue wait and handler time need time
//     stamps: call pool.Observe(c.ObserveItem) for each Pool to measure.
//
// The package lives in a module of its own so that shepherd's module does
// not depend on the Prometheus client.
//
// # OpenTelemetry
//
// A program that exports with OpenTelemetry takes the same Collector
// through the Prometheus bridge (go.opentelemetry.io/contrib/bridges/prometheus),
// which reads a prometheus.Gatherer at each OpenTelemetry collection:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(shepherdprom.New(sup))
//	reader := metric.NewPeriodicReader(exporter,
//		metric.WithProducer(otelprom.NewMetricProducer(otelprom.WithGatherer(reg))))
//	provider := metric.NewMeterProvider(metric.WithReader(reader))
//
// The series keep their names and labels; counters become OpenTelemetry
// sums, gauges gauges, and the histograms explicit-bucket histograms.
package shepherdprom

import (
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shepherd-go/shepherd"
)

// Collector is a prometheus.Collector for one or more shepherd trees.
// Register it once: reg.MustRegister(shepherdprom.New(sup)). Nodes of two
// trees that share a path are exported once, from the first tree given.
//
// The series, each labelled with the node's path:
//
//	shepherd_service_state{path,kind,state}     1 for the node's state, 0 for the others
//	shepherd_service_start_time_seconds{path}   when its current or last run started (Unix)
//	shepherd_service_restarts_total{path}       restarts
//	shepherd_failures_total{path,kind}          kind "error", "panic" or "stuck" (needs OnEvent)
//	shepherd_pool_items_submitted_total{path}   items accepted
//	shepherd_pool_items_queued{path}            items waiting for a worker
//	shepherd_pool_items_in_flight{path}         items being handled
//	shepherd_pool_items_total{path,outcome}     outcome "done", "failed", "panicked" or "handed_back"
//	shepherd_pool_queue_wait_seconds{path}      histogram (needs pool.Observe(c.ObserveItem))
//	shepherd_pool_handle_seconds{path}          histogram (needs pool.Observe(c.ObserveItem))
//	shepherd_goroutines_leaked{path}            proven leaks (needs ExportLeaks)
//	shepherd_goroutines{path}                   goroutines under the node (needs ExportGoroutines)
//	shepherd_goroutines_max{path}               its MaxGoroutines (needs ExportGoroutines)
//	shepherd_goroutines_over_limit{path}        1 past the ceiling (needs ExportGoroutines)
//	shepherd_goroutines_only_grown{path}        1 when only growing (needs ExportGoroutines)
//
// A failure is counted under the node that owns it: the failure of Group
// task "app/api/fetch 7" or pool item "app/reports[17]" under "app/api" or
// "app/reports", so that task names and item keys do not each make a
// series.
type Collector struct {
	roots []*shepherd.Supervisor

	queueWait *prometheus.HistogramVec
	handle    *prometheus.HistogramVec
	observers sync.Map // path -> *poolObservers

	mu       sync.Mutex
	failures map[failureKey]float64
	known    map[string]bool // node paths, refreshed at each scrape
	leaks    bool            // ExportLeaks was called
	sampler  *shepherd.GoroutineSampler
}

type failureKey struct{ path, kind string }

type poolObservers struct{ queueWait, handle prometheus.Observer }

var (
	descState = prometheus.NewDesc("shepherd_service_state",
		"The state of a service of a shepherd tree: 1 for its state, 0 for the others.", []string{"path", "kind", "state"}, nil)
	descStart = prometheus.NewDesc("shepherd_service_start_time_seconds",
		"When the service's current or last run started, in seconds since the Unix epoch.", []string{"path"}, nil)
	descRestarts = prometheus.NewDesc("shepherd_service_restarts_total",
		"How many times the service was restarted.", []string{"path"}, nil)
	descFailures = prometheus.NewDesc("shepherd_failures_total",
		"Failures of the node's services, tasks and pool items, by kind: error, panic or stuck.", []string{"path", "kind"}, nil)
	descSubmitted = prometheus.NewDesc("shepherd_pool_items_submitted_total",
		"Items the pool accepted.", []string{"path"}, nil)
	descQueued = prometheus.NewDesc("shepherd_pool_items_queued",
		"Accepted items waiting for a worker.", []string{"path"}, nil)
	descInFlight = prometheus.NewDesc("shepherd_pool_items_in_flight",
		"Items whose handler is running.", []string{"path"}, nil)
	descItems = prometheus.NewDesc("shepherd_pool_items_total",
		"Items the pool finished with, by outcome: done, failed, panicked or handed_back.", []string{"path", "outcome"}, nil)
)

// states are every State, for the state set.
var states = []shepherd.State{shepherd.StateIdle, shepherd.StateStarting, shepherd.StateRunning, shepherd.StateRestarting,
	shepherd.StateStopping, shepherd.StateStopped, shepherd.StateFailed, shepherd.StateStuck}

// New returns a Collector for the trees of roots. It panics if roots is
// empty or holds nil.
func New(roots ...*shepherd.Supervisor) *Collector {
	if len(roots) == 0 {
		panic("shepherdprom: New with no root; pass the *shepherd.Supervisor whose tree to export")
	}
	for _, r := range roots {
		if r == nil {
			panic("shepherdprom: New with a nil root; pass the *shepherd.Supervisor whose tree to export")
		}
	}
	// From 10µs to 2.6s by factors of 4: a handler of a few microseconds
	// and a queue backed up for seconds both land inside the range.
	buckets := prometheus.ExponentialBuckets(10e-6, 4, 10)
	return &Collector{
		roots: append([]*shepherd.Supervisor(nil), roots...),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shepherd_pool_queue_wait_seconds", Help: "How long an item waited in the pool's queue for a worker.", Buckets: buckets,
		}, []string{"path"}),
		handle: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shepherd_pool_handle_seconds", Help: "How long the pool's handler ran for an item.", Buckets: buckets,
		}, []string{"path"}),
		failures: map[failureKey]float64{},
		known:    map[string]bool{},
	}
}

// Describe sends the descriptions of every series the Collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descStart, descRestarts, descFailures, descSubmitted, descQueued, descInFlight, descItems} {
		ch <- d
	}
	for _, d := range extraDescs {
		ch <- d
	}
	c.queueWait.Describe(ch)
	c.handle.Describe(ch)
}

// Collect reads the trees and sends their series. Prometheus' registry
// calls it at each scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	seen := map[string]bool{}
	for _, r := range c.roots {
		c.collectNode(ch, r.Snapshot(), seen)
	}
	c.mu.Lock()
	c.known = seen
	for k, v := range c.failures {
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, v, k.path, k.kind)
	}
	c.mu.Unlock()
	c.collectExtra(ch, seen)
	c.queueWait.Collect(ch)
	c.handle.Collect(ch)
}

func (c *Collector) collectNode(ch chan<- prometheus.Metric, n shepherd.Node, seen map[string]bool) {
	if !seen[n.Path] {
		seen[n.Path] = true
		for _, s := range states {
			v := 0.0
			if s == n.State {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, v, n.Path, n.Kind, s.String())
		}
		if !n.Started.IsZero() {
			ch <- prometheus.MustNewConstMetric(descStart, prometheus.GaugeValue, float64(n.Started.UnixNano())/1e9, n.Path)
		}
		ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(n.Restarts), n.Path)
		if st := n.Stats; st != nil {
			ch <- prometheus.MustNewConstMetric(descSubmitted, prometheus.CounterValue, float64(st.Submitted), n.Path)
			ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(st.Queued), n.Path)
			ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(st.InFlight), n.Path)
			for _, o := range []struct {
				name string
				v    int64
			}{{"done", st.Done}, {"failed", st.Failed}, {"panicked", st.Panicked}, {"handed_back", st.HandedBack}} {
				ch <- prometheus.MustNewConstMetric(descItems, prometheus.CounterValue, float64(o.v), n.Path, o.name)
			}
		}
	}
	for _, k := range n.Children {
		c.collectNode(ch, k, seen)
	}
}

// OnEvent counts failures, panics and stuck services. Pass it to the root
// supervisor: shepherd.NewSupervisor("app", shepherd.OnEvent(c.OnEvent)).
// To keep a hook of your own too, call both from one function.
func (c *Collector) OnEvent(e shepherd.Event) {
	kind := ""
	switch e.State {
	case shepherd.StateFailed:
		kind = "error"
		if _, ok := e.Err.(*shepherd.PanicError); ok {
			kind = "panic"
		}
	case shepherd.StateStuck:
		kind = "stuck"
	default:
		return
	}
	path := e.Path
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i] // a pool item: "app/reports[17]"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known[path] {
		c.refreshKnownLocked()
	}
	c.failures[failureKey{c.ownerLocked(path), kind}]++
}

// refreshKnownLocked reads the node paths when an event names one the last
// scrape did not see; events are rare, and Snapshot is cheap.
func (c *Collector) refreshKnownLocked() {
	var add func(n shepherd.Node)
	add = func(n shepherd.Node) {
		c.known[n.Path] = true
		for _, k := range n.Children {
			add(k)
		}
	}
	for _, r := range c.roots {
		add(r.Snapshot())
	}
}

// ownerLocked returns the nearest node path at or above path; path itself
// if no node covers it.
func (c *Collector) ownerLocked(path string) string {
	if p, ok := nearest(c.known, path); ok {
		return p
	}
	return path
}

// ObserveItem records an item's queue wait and handler time in the
// histograms. Attach it to each pool to measure:
// pool.Observe(c.ObserveItem). Each item then costs three
// reads of the monotonic clock and two histogram observations, which the
// pool's workers share: BenchmarkPoolCollector measured a tiny item going
// from about 110 ns to about 330 ns with 8 workers on two cores (medians
// of 6 runs of each, about 3x). Attach it where handlers take microseconds
// or more, or to one pool at a time while investigating.
func (c *Collector) ObserveItem(path string, queued, handled time.Duration) {
	o, ok := c.observers.Load(path)
	if !ok {
		o, _ = c.observers.LoadOrStore(path, &poolObservers{c.queueWait.WithLabelValues(path), c.handle.WithLabelValues(path)})
	}
	po := o.(*poolObservers)
	po.queueWait.Observe(queued.Seconds())
	po.handle.Observe(handled.Seconds())
}
