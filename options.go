package shepherd

import (
	"log/slog"
	"time"
)

// Defaults for a Supervisor. The shutdown budget sits between suture's 10 s
// and fx's 15 s and fits Kubernetes' default 30 s termination grace period
// with room for a drain delay.
const (
	defaultShutdownTimeout = 15 * time.Second
	defaultMaxRestarts     = 5
	defaultRestartPeriod   = 30 * time.Second
)

// A SupervisorOption configures a Supervisor: MaxTasks, ShutdownTimeout,
// Logger, OnEvent, DrainDelay, MaxRestarts, or a Strategy.
type SupervisorOption interface {
	applySupervisor(*supervisorConfig)
}

// supervisorOptionFunc is a SupervisorOption that sets its fields.
type supervisorOptionFunc func(*supervisorConfig)

func (f supervisorOptionFunc) applySupervisor(c *supervisorConfig) { f(c) }

type supervisorConfig struct {
	shutdownTimeout time.Duration
	log             *slog.Logger
	hook            func(Event)
	maxRestarts     int
	restartPeriod   time.Duration
	strategy        Strategy
	drainDelay      time.Duration
	maxTasks        int
	maxTasksSet     bool
}

// MaxTasks caps at n the Group tasks running at once anywhere under the
// supervisor: in its services, in the Groups they create (Map and ForEach
// included), and in the handlers of its HTTPServers, whose request
// contexts carry the tree. At the cap, Group.Go blocks until a task
// somewhere ends or its group's context is done, and TryGo returns false:
// a flood of requests that each start tasks becomes a queue, not a flood of
// goroutines. A nested supervisor with a cap of its own is bound by both.
//
// Pools are bounded by their workers and are not counted, and goroutines
// started with a plain go statement cannot be. A task that waits for tasks
// it started holds its slot meanwhile: keep n above the nesting of such
// tasks, or use TryGo to shed load instead of waiting.
func MaxTasks(n int) SupervisorOption {
	return supervisorOptionFunc(func(c *supervisorConfig) { c.maxTasks, c.maxTasksSet = n, true })
}

// ShutdownTimeout sets the supervisor's shutdown budget: the most time Run
// spends stopping its services once asked to stop (15 seconds
// if unset). Services are stopped one at a time in reverse order, each
// Stopper given what remains of the budget. In the last tenth of the budget
// (at most one second) every remaining service's context is cancelled; at
// the end of the budget Run returns a *StuckError for those still running.
func ShutdownTimeout(d time.Duration) SupervisorOption {
	return supervisorOptionFunc(func(c *supervisorConfig) { c.shutdownTimeout = d })
}

// Logger makes the supervisor log every event of its services, and of any
// Group, Pool or Supervisor running inside them, to l: start and ready at
// Debug, exit and stop at Info, restarts at Warn, failures, panics and
// stuck services at Error (a failure that only echoes a stop's
// cancellation at Info), each with the service's path as "path" and with
// the context of the task it is about, so a handler finds trace ids there.
// Nested supervisors without a Logger of their own use their parent's.
//
// Records reach l's handler in order, from a goroutine of the tree's own,
// never from the goroutine where the event happened: a slow handler delays
// the tree's records, never the tree (past a queue of 4096 it loses them,
// and says how many). The order is the tree's, across the sinks that
// nested supervisors set: a nested supervisor's records come after the
// parent's records that led to them, so a slow sink anywhere in the tree
// also holds back the records posted after its own. A handler that panics
// or calls runtime.Goexit is a failure of the supervisor that set it,
// reported as a *PanicError (or ErrGoexit) for the event's path with
// " (Logger)" appended. Run waits, within the shutdown budget, for the
// stop's records to be handled; a handler still blocked at the end of the
// budget is named in a *StuckError.
func Logger(l *slog.Logger) SupervisorOption {
	return supervisorOptionFunc(func(c *supervisorConfig) { c.log = l })
}

// OnEvent calls fn for every event of the supervisor's tree, for metrics or
// tests. fn is called in the order the events happened, after the Logger,
// from the same goroutine of the tree's own, in one order with the events
// that nested supervisors deliver to sinks of their own; like the Logger it
// delays the tree's events but never the tree and, when still blocked at the
// end of the shutdown budget, is named in Run's *StuckError as "<path> (OnEvent hook)". A panic
// or runtime.Goexit in fn is a failure of the supervisor that set it, like
// a panic anywhere in its tree: the supervisor stops, and Run reports it as
// a *PanicError (or ErrGoexit) for the event's path with " (OnEvent hook)"
// appended. During a stop it can no longer stop anything and is only
// reported. fn may call Stop on the supervisor: Stop then returns without
// waiting for Run.
func OnEvent(fn func(Event)) SupervisorOption {
	return supervisorOptionFunc(func(c *supervisorConfig) { c.hook = fn })
}

// DrainDelay makes a supervisor that is asked to stop (its context done, or
// Stop) report not ready at once, then keep every service running for d
// before stopping them in reverse order, so that Kubernetes endpoints and
// load balancers stop sending new requests before any listener closes.
//
// The delay is taken from the shutdown budget, not added to it: the whole
// stop still fits in ShutdownTimeout, which is what
// terminationGracePeriodSeconds must cover. The delay is cut to half the
// remaining budget if it would leave the services less than that. A stop
// caused by a failure does not wait: failing fast matters more then.
// d must be less than the ShutdownTimeout.
func DrainDelay(d time.Duration) SupervisorOption {
	return supervisorOptionFunc(func(c *supervisorConfig) { c.drainDelay = d })
}

// A ServiceOption configures one service of a Supervisor: Restart,
// AwaitReady, or a Backoff.
type ServiceOption interface {
	applyService(*serviceConfig)
}

// serviceOptionFunc is a ServiceOption that sets its fields.
type serviceOptionFunc func(*serviceConfig)

func (f serviceOptionFunc) applyService(c *serviceConfig) { f(c) }

type serviceConfig struct {
	restart RestartPolicy
	backoff Backoff
	await   time.Duration // AwaitReady's timeout; 0 unless given
}

// builtinReadyTimeout is how long a supervisor waits for a built-in
// service that signals readiness (HTTPServer, Pool, Supervisor) to be
// ready, unless AwaitReady says otherwise.
const builtinReadyTimeout = 30 * time.Second

// AwaitReady makes the supervisor wait for the service to call Ready
// before it starts the next one, for at most d: a service that has not
// called Ready by then, and has not returned, fails to start. Without
// AwaitReady a service is ready as soon as its goroutine starts, except
// HTTPServer (ready once bound), Pool (once its workers run) and
// Supervisor (once all its services are ready), which are awaited for 30
// seconds unless given AwaitReady. d must be positive.
//
// Any service can signal readiness this way, a struct with a Stop method
// as well as a ServiceFunc:
//
//	sup.Add("db", db, shepherd.AwaitReady(30*time.Second)) // db's Run calls shepherd.Ready(ctx) once connected
func AwaitReady(d time.Duration) ServiceOption {
	if d <= 0 {
		panic("shepherd: AwaitReady(" + d.String() + "): wait a positive time for the service to call Ready, such as 30*time.Second")
	}
	return serviceOptionFunc(func(c *serviceConfig) { c.await = d })
}
