package shepherdprom

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shepherd-go/shepherd"
	"github.com/shepherd-go/shepherd/goroutines"
)

var descLeaked = prometheus.NewDesc("shepherd_goroutines_leaked",
	"Goroutines the runtime proved can never wake, under the node that owns them (binaries built with GOEXPERIMENT=goroutineleakprofile).",
	[]string{"path"}, nil)

var (
	descGoroutines = prometheus.NewDesc("shepherd_goroutines",
		"Goroutines the node holds, its own and those labelled below it, at the GoroutineSampler's last sample.", []string{"path"}, nil)
	descGoroutinesMax = prometheus.NewDesc("shepherd_goroutines_max",
		"The node's MaxGoroutines ceiling.", []string{"path"}, nil)
	descGoroutinesOver = prometheus.NewDesc("shepherd_goroutines_over_limit",
		"1 while the node's last sample was past its MaxGoroutines, else 0.", []string{"path"}, nil)
	descGoroutinesGrowing = prometheus.NewDesc("shepherd_goroutines_only_grown",
		"1 when the node's goroutine count rose at every sample of the sampler's window, else 0.", []string{"path"}, nil)
)

// extraDescs are the series of the goroutine views, exported only when
// asked for.
var extraDescs = []*prometheus.Desc{descLeaked, descGoroutines, descGoroutinesMax, descGoroutinesOver, descGoroutinesGrowing}

// ExportGoroutines makes each scrape export the last sample of gs, which
// must run in the tree: shepherd_goroutines{path} for every node, and
// shepherd_goroutines_max, shepherd_goroutines_over_limit and
// shepherd_goroutines_only_grown. A scrape reads the sampler's memory and
// costs no goroutine profile. It returns c.
func (c *Collector) ExportGoroutines(gs *shepherd.GoroutineSampler) *Collector {
	if gs == nil {
		panic("shepherdprom: ExportGoroutines(nil): pass the *shepherd.GoroutineSampler running in the tree")
	}
	c.mu.Lock()
	c.sampler = gs
	c.mu.Unlock()
	return c
}

func (c *Collector) collectSampler(ch chan<- prometheus.Metric, gs *shepherd.GoroutineSampler) {
	for p, t := range gs.Trends() {
		if len(t.Counts) == 0 {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descGoroutines, prometheus.GaugeValue, float64(t.Counts[len(t.Counts)-1]), p)
		ch <- prometheus.MustNewConstMetric(descGoroutinesGrowing, prometheus.GaugeValue, b2f(t.Growing), p)
		if t.Max > 0 {
			ch <- prometheus.MustNewConstMetric(descGoroutinesMax, prometheus.GaugeValue, float64(t.Max), p)
			ch <- prometheus.MustNewConstMetric(descGoroutinesOver, prometheus.GaugeValue, b2f(t.Over), p)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ExportLeaks makes each scrape export shepherd_goroutines_leaked{path}:
// the goroutines the runtime proved leaked, counted under the nearest node
// above their owner. It needs a binary built with Go 1.26's
// GOEXPERIMENT=goroutineleakprofile and exports nothing otherwise. Each
// scrape then runs one garbage collection to find them, which is why it is
// opt-in. It returns c.
func (c *Collector) ExportLeaks() *Collector {
	c.mu.Lock()
	c.leaks = true
	c.mu.Unlock()
	return c
}

func (c *Collector) collectExtra(ch chan<- prometheus.Metric, nodes map[string]bool) {
	c.mu.Lock()
	leaks, gs := c.leaks, c.sampler
	c.mu.Unlock()
	if gs != nil {
		c.collectSampler(ch, gs)
	}
	if !leaks {
		return
	}
	leaked, ok := goroutines.Leaked()
	if !ok {
		return
	}
	counts := make(map[string]int, len(nodes))
	for p := range nodes {
		counts[p] = 0
	}
	for _, g := range leaked {
		if p, ok := nearest(nodes, g.Path); ok {
			counts[p] += g.Count
		}
	}
	for p, n := range counts {
		ch <- prometheus.MustNewConstMetric(descLeaked, prometheus.GaugeValue, float64(n), p)
	}
}

// nearest returns the node path at or above path.
func nearest(nodes map[string]bool, path string) (string, bool) {
	for path != "" {
		if nodes[path] {
			return path, true
		}
		i := strings.LastIndexByte(path, '/')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return "", false
}
