package shepherd

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// This file owns the restart settings and their bookkeeping: restart
// policies, strategies, Backoff and its delays, the sentinels that steer
// a restart, and the restart intensity that enforces MaxRestarts.

// A RestartPolicy says when a Supervisor starts a service again after its
// Run returned.
type RestartPolicy int

const (
	// Never restarts the service: a failure stops the supervisor (fail
	// fast), a nil return leaves the service finished while the others run
	// on. It is the default.
	Never RestartPolicy = iota
	// OnFailure restarts the service when Run fails (returns an error or
	// panics) but not when it returns nil. OTP calls it transient.
	OnFailure
	// Always restarts the service whenever Run returns while the supervisor
	// runs. OTP calls it permanent.
	Always
)

// String returns the policy's name: "Never", "OnFailure" or "Always".
func (p RestartPolicy) String() string {
	switch p {
	case Never:
		return "Never"
	case OnFailure:
		return "OnFailure"
	case Always:
		return "Always"
	}
	return fmt.Sprintf("RestartPolicy(%d)", int(p))
}

// Restart sets when the service is started again after Run returns; see
// RestartPolicy. Restarts wait out a Backoff and count against the
// supervisor's MaxRestarts.
func Restart(p RestartPolicy) ServiceOption {
	return serviceOptionFunc(func(c *serviceConfig) { c.restart = p })
}

// A Strategy says which services a Supervisor restarts when one of them
// must be restarted. The names are OTP's. A Strategy is a
// SupervisorOption: NewSupervisor("app", shepherd.RestForOne). Without one
// a supervisor restarts OneForOne.
type Strategy int

const (
	// OneForOne restarts only the service that returned. It is the default.
	OneForOne Strategy = iota
	// OneForAll stops every other service in reverse order, then starts all
	// of them again in order: for services that cannot work without each
	// other.
	OneForAll
	// RestForOne stops the services added after the one that returned, in
	// reverse order, then starts it and them again in order: for a pipeline
	// where later stages depend on earlier ones.
	//
	// With OneForAll and RestForOne, a service whose policy is Never is
	// stopped with the others but not started again, as OTP does with
	// temporary children: Never means the service runs once.
	RestForOne
)

// String returns the strategy's name, as in OTP: "OneForOne", "OneForAll"
// or "RestForOne".
func (s Strategy) String() string {
	switch s {
	case OneForOne:
		return "OneForOne"
	case OneForAll:
		return "OneForAll"
	case RestForOne:
		return "RestForOne"
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// applySupervisor makes a Strategy a SupervisorOption: passed to
// NewSupervisor, it sets the supervisor's restart strategy (OneForOne if
// unset), as in NewSupervisor("app", shepherd.RestForOne).
func (s Strategy) applySupervisor(c *supervisorConfig) { c.strategy = s }

// MaxRestarts is the supervisor's restart intensity, as in OTP: more than n
// restarts within any window of length per make the supervisor give up. It
// then stops its services in reverse order and fails with a
// *RestartLimitError, which its own parent handles like any other failure:
// a flapping service escalates up the tree until some supervisor restarts
// the subtree or the program stops. The default is 5 restarts per 30
// seconds. n must be at least 0 and per positive.
func MaxRestarts(n int, per time.Duration) SupervisorOption {
	return supervisorOptionFunc(func(c *supervisorConfig) { c.maxRestarts, c.restartPeriod = n, per })
}

// Backoff is the delay between a service's exit and its restart. The first
// restart waits Min; each further restart doubles the delay, up to Max.
// Jitter spreads each delay uniformly over [d·(1-Jitter), d], so services
// that failed together do not restart in lockstep. Once a run of the service
// lasts at least Reset, the next restart waits Min again.
//
// A Backoff is a ServiceOption: pass it to Add with the service.
type Backoff struct {
	Min, Max time.Duration
	Jitter   float64       // in [0, 1]
	Reset    time.Duration // 0 means Max
}

// defaultBackoff is used for services added without a Backoff.
var defaultBackoff = Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second, Jitter: 0.2}

// applyService makes a Backoff a ServiceOption: passed to Add, it sets the
// delays between restarts of the service, as in
// sup.Add("feed", feed, shepherd.Restart(shepherd.Always), shepherd.Backoff{Min: time.Second, Max: time.Minute}).
// Without one, a service waits 100 ms before its first restart, doubling
// up to 10 s, with a jitter of 0.2. Backoff{} restarts at once, which is
// only wise with a tight MaxRestarts.
func (b Backoff) applyService(c *serviceConfig) { c.backoff = b }

// delay returns the wait before restart number attempt (1 for the first).
func (b Backoff) delay(attempt int, rnd *rand.Rand) time.Duration {
	d := b.Min
	for i := 1; i < attempt && d < b.Max; i++ {
		if d > b.Max/2 {
			d = b.Max // doubling could overflow for a Max near the largest Duration
			break
		}
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 && d > 0 {
		d -= time.Duration(rnd.Float64() * b.Jitter * float64(d))
	}
	return d
}

func (b Backoff) resetAfter() time.Duration {
	if b.Reset > 0 {
		return b.Reset
	}
	return b.Max
}

func (b Backoff) validate(supervisor, service string) {
	if b.Min < 0 || b.Max < b.Min || !(b.Jitter >= 0 && b.Jitter <= 1) || b.Reset < 0 { // NaN fails the Jitter test too
		panic(fmt.Sprintf("shepherd: supervisor %q: Add(%q): invalid Backoff%+v; want 0 <= Min <= Max, Jitter in [0, 1], Reset >= 0", supervisor, service, b))
	}
}

// ErrDoNotRestart, wrapped in the error a service returns, tells its
// Supervisor not to restart it this time: the service is finished, and the
// exit is not a failure.
var ErrDoNotRestart = errors.New("shepherd: do not restart")

// ErrStopTree, wrapped in the error a service returns, stops the whole
// tree: its supervisor stops every service in reverse order and returns the
// error, which makes each parent supervisor do the same up to the root.
// Main exits with code 0 when only ErrStopTree ended the program.
var ErrStopTree = errors.New("shepherd: stop the tree")

// A RestartLimitError is the failure of a Supervisor whose services
// restarted more often than its MaxRestarts allows.
type RestartLimitError struct {
	// Supervisor is the path of the supervisor that gave up.
	Supervisor string
	// Service is the path of the service whose failure crossed the limit.
	Service string
	// Restarts and Period are the supervisor's MaxRestarts.
	Restarts int
	Period   time.Duration
	// Last is the service's last failure.
	Last error
}

// Error names the supervisor that gave up, the service, its restart count
// within the period and its last failure.
func (e *RestartLimitError) Error() string {
	return fmt.Sprintf("shepherd: supervisor %q gave up: service %q exceeded %d restarts in %v; last failure: %v",
		e.Supervisor, e.Service, e.Restarts, e.Period, e.Last)
}

// Unwrap returns the last failure.
func (e *RestartLimitError) Unwrap() error { return e.Last }

// intensity enforces MaxRestarts. Up to exactLimit restarts per window it
// keeps their times and counts exactly, as OTP does; past that it counts
// restarts in intensityBuckets slices of the period, so that its memory
// stays the same however large n is (MaxRestarts(1<<40, time.Hour) would
// otherwise keep a time per restart of the last hour). The window then
// moves a slice at a time: a restart leaves it up to period/intensityBuckets
// late, which at such limits is no difference anyone can see.
type intensity struct {
	max    int
	period time.Duration
	times  []time.Time // times[head:] are the restarts within period, oldest first
	head   int

	counts [intensityBuckets]int // restarts per slice of the period, by slice number mod intensityBuckets
	total  int                   // the sum of counts
	last   int64                 // the slice of the last restart counted
	epoch  time.Time             // slices are numbered from here
}

const (
	exactLimit       = 1024
	intensityBuckets = 64
)

// allow records a restart at now and reports whether it stays within the
// limit. It costs O(1) amortized, however large max and period are.
func (in *intensity) allow(now time.Time) bool {
	if in.full(now) {
		return false
	}
	in.record(now)
	return true
}

// full reports whether a restart at now would pass the limit. It forgets
// the restarts that left the window, which changes no answer.
func (in *intensity) full(now time.Time) bool {
	if in.max > exactLimit {
		in.expire(now)
		return in.total >= in.max
	}
	for in.head < len(in.times) && now.Sub(in.times[in.head]) >= in.period {
		in.head++
	}
	if in.head > 0 && in.head >= len(in.times)/2 {
		// Reuse the space of the restarts that left the window.
		n := copy(in.times, in.times[in.head:])
		in.times, in.head = in.times[:n], 0
	}
	return len(in.times)-in.head >= in.max
}

// record counts a restart at now; full(now) must have been asked first.
func (in *intensity) record(now time.Time) {
	if in.max > exactLimit {
		in.counts[in.slot(now)%intensityBuckets]++
		in.total++
		return
	}
	in.times = append(in.times, now)
}

func (in *intensity) slot(now time.Time) int64 {
	if in.epoch.IsZero() {
		in.epoch = now
	}
	width := max(in.period/intensityBuckets, 1)
	return int64(now.Sub(in.epoch) / width) // monotonic: a wall clock step moves no restart
}

// expire forgets the slices between the last restart's and now's: each is
// cleared once, so a restart costs O(1) amortized.
func (in *intensity) expire(now time.Time) {
	slot := in.slot(now)
	switch {
	case in.total == 0 || slot-in.last >= intensityBuckets:
		in.counts, in.total = [intensityBuckets]int{}, 0
	default:
		for s := in.last + 1; s <= slot; s++ {
			i := s % intensityBuckets
			in.total -= in.counts[i]
			in.counts[i] = 0
		}
	}
	in.last = max(in.last, slot)
}
