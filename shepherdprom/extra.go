package shepherdprom

import "github.com/prometheus/client_golang/prometheus"

// extraDescs are the series of the goroutine views (leaks, counts per
// owner); empty until those are wired.
var extraDescs []*prometheus.Desc

func (c *Collector) collectExtra(ch chan<- prometheus.Metric, nodes map[string]bool) {}
