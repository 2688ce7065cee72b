// Package shepherd gives every goroutine a program starts an owner, a name,
// a context that tells it to stop, and a place where its failure, panic or
// refusal to stop is reported.
//
// A raw go statement has none of these: nothing waits for it, nothing cancels
// it, and its panic kills the process. errgroup fixes the waiting and the
// first error; shepherd adds names, panic recovery, bounded concurrency that
// stops on failure, long-running services with an ordered start and a reverse
// stop, worker pools that drain without losing items, and pprof labels that
// attribute every goroutine to its owner.
//
// Three types carry the work:
//
//   - [Group] runs a batch of tasks and waits for them; the first failure
//     cancels the rest.
//   - [Supervisor] runs long-lived services (an HTTP server, its pprof
//     server, background loops, pools) in order, stops them in reverse
//     order within a shutdown budget, and reports any that refuse to stop.
//   - [Pool] is a bounded, typed worker pool with backpressure and a
//     graceful drain.
//
// Every goroutine these types start carries the pprof label
// "shepherd.path" (for example "app/api/fetch users"); goroutines started
// from inside a task with a plain go statement inherit it, so goroutine
// profiles and stuck reports name the owner of each one. Package
// [github.com/shepherd-go/shepherd/goroutines] reads them back: the live
// goroutines grouped by owner, and those the runtime proved leaked.
package shepherd
