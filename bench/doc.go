// Package bench measures shepherd side by side with its peers (errgroup,
// conc, ants, pond, oklog/run, suture) and with plain go statements, which
// are the baseline of every workload. It is a module of its own so that
// shepherd's go.mod never lists the peers.
//
// The benchmarks live in the _test.go files, one workload per file; run.sh
// runs them, summarizes them with benchstat and regenerates RESULTS.md
// through cmd/results.
package bench
