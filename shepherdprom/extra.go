package shepherdprom

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shepherd-go/shepherd"
)

var descLeaked = prometheus.NewDesc("shepherd_goroutines_leaked",
	"Goroutines the runtime proved can never wake, under the node that owns them (binaries built with GOEXPERIMENT=goroutineleakprofile).",
	[]string{"path"}, nil)

// extraDescs are the series of the goroutine views, exported only when
// asked for.
var extraDescs = []*prometheus.Desc{descLeaked}

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
	leaks := c.leaks
	c.mu.Unlock()
	if !leaks {
		return
	}
	leaked, ok := shepherd.LeakedGoroutines()
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
