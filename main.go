package shepherd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"

	"go.uber.org/multierr"
)

// Exit codes returned by Main, for orchestrators and scripts.
const (
	// ExitOK: the service stopped cleanly, on a signal or on its own, or
	// only ErrStopTree ended it.
	ExitOK = 0
	// ExitFailure: the service failed.
	ExitFailure = 1
	// ExitStuck: the service stopped, but some part of it did not return
	// within its shutdown budget (a *StuckError).
	ExitStuck = 3
	// ExitForced is added to the signal number when a second signal forced
	// Main to return before the shutdown finished: 130 for SIGINT, 143 for
	// SIGTERM, the shell's convention for "killed by a signal".
	ExitForced = 128
)

// A MainOption configures Main.
type MainOption func(*mainConfig)

type mainConfig struct {
	signals []os.Signal
	log     *slog.Logger
	report  io.Writer
}

// Signals sets the signals that stop the service (SIGINT and SIGTERM if
// unset).
func Signals(sig ...os.Signal) MainOption {
	if len(sig) == 0 {
		// signal.Notify with no signals relays every signal, so a terminal
		// resize would stop the program.
		panic("shepherd: Signals(): no signals given; omit the option to stop on SIGINT and SIGTERM")
	}
	return func(c *mainConfig) { c.signals = sig }
}

// MainLogger sets where Main logs the outcome; without it Main uses the
// Supervisor's Logger, if svc is a Supervisor that has one, else
// slog.Default(). Stuck reports, which are many lines of stacks, are
// written to os.Stderr as plain text.
func MainLogger(l *slog.Logger) MainOption {
	return func(c *mainConfig) { c.log = l }
}

// MainReport sets where Main writes, as plain text, the stuck report of a
// shutdown that did not finish within its budget and the stacks of the
// goroutines still running when a second signal forced the exit; without
// it they go to os.Stderr.
func MainReport(w io.Writer) MainOption {
	if w == nil {
		panic("shepherd: MainReport(nil): pass a writer, or omit the option to report to os.Stderr")
	}
	return func(c *mainConfig) { c.report = w }
}

// Main runs svc until it returns or the process receives SIGINT or SIGTERM,
// which starts a graceful stop; a second signal makes Main return at once,
// logging the stacks of every goroutine shepherd owns so the operator sees
// what was still running. It returns the process exit code (see ExitOK and
// the others) and does not call os.Exit, so that deferred calls run and
// tests can call it:
//
//	func main() { os.Exit(shepherd.Main(sup)) }
//
// Under systemd (NOTIFY_SOCKET set, as for a unit with Type=notify), Main
// speaks the sd_notify protocol: READY=1 once every service of the tree
// is ready, STATUS= with a one-line summary whenever it changes, STOPPING=1
// when the stop begins, with EXTEND_TIMEOUT_USEC set to the supervisor's
// ShutdownTimeout plus a second so that a drain within the budget is not
// killed, and, when the unit sets WatchdogSec=, WATCHDOG=1 every half
// interval while the tree is live in the sense of Livez: once a service is
// stuck or the tree has failed, the pings stop and systemd restarts the
// process. The tree is read with Snapshot every 100 ms, so READY=1 and
// STATUS= follow the tree by at most that. A svc that is not a *Supervisor
// is reported ready as soon as Main runs it.
func Main(svc Service, opts ...MainOption) int {
	if svc == nil {
		panic("shepherd: Main(nil): pass the service (usually a *Supervisor) to run")
	}
	cfg := mainConfig{signals: []os.Signal{os.Interrupt, syscall.SIGTERM}, report: os.Stderr}
	for _, o := range opts {
		o(&cfg)
	}
	log := cfg.log
	if log == nil {
		if sup, ok := svc.(*Supervisor); ok && sup.cfg.log != nil {
			log = sup.cfg.log
		} else {
			log = slog.Default()
		}
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, cfg.signals...)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)

	sd := startNotifier(svc) // nil unless systemd's NOTIFY_SOCKET is set
	defer sd.stop()

	errc := make(chan error, 1)
	go func() {
		if sup, ok := svc.(*Supervisor); ok {
			// The root supervisor's own goroutine is owned by the tree too,
			// so debug pages and stuck reports do not list it as unowned.
			// It carries the tree's identity, which Run gives the tree
			// (newTreeID), since the debug page and the sampler match
			// goroutines to their own tree only.
			setLabels(pprof.WithLabels(ctx, pprof.Labels(LabelPath, sup.name, LabelTree, newTreeID(sup))))
		}
		var err error = &TaskError{Path: "main", Err: ErrGoexit} // replaced unless svc.Run calls runtime.Goexit
		defer func() { errc <- err }()
		err = Catch("main", func() error { return svc.Run(ctx) })
		if err != nil && echoes(ctx, err) {
			err = nil
		}
	}()
	select {
	case err := <-errc:
		return exitCode(log, cfg.report, err)
	case sig := <-sigs:
		log.Info("shepherd: signal received, stopping", "signal", sig.String())
		cancel(fmt.Errorf("shepherd: received %v", sig))
		sd.signalled()
	}
	select {
	case err := <-errc:
		return exitCode(log, cfg.report, err)
	case sig := <-sigs:
		log.Error("shepherd: second signal received, exiting before the shutdown finished", "signal", sig.String())
		_, _ = fmt.Fprint(cfg.report, ownedReport())
		code := ExitForced
		if s, ok := sig.(syscall.Signal); ok {
			code += int(s)
		}
		return code
	}
}

func exitCode(log *slog.Logger, report io.Writer, err error) int {
	if err == nil {
		log.Info("shepherd: stopped cleanly")
		return ExitOK
	}
	var stuck *StuckError
	if errors.As(err, &stuck) {
		log.Error("shepherd: stopped, but not everything returned", "err", err)
		_, _ = fmt.Fprint(report, stuck.Report())
		return ExitStuck
	}
	onlyStopTree := true
	for _, e := range multierr.Errors(err) {
		onlyStopTree = onlyStopTree && errors.Is(e, ErrStopTree)
	}
	if onlyStopTree {
		log.Info("shepherd: stopped by a service", "err", err)
		return ExitOK
	}
	log.Error("shepherd: failed", "err", err)
	return ExitFailure
}

// ownedReport lists the goroutines that carry a shepherd path, each stack
// once, under the path it carries.
func ownedReport() string {
	var owned []GoroutineStack
	n := 0
	for _, g := range Goroutines() {
		if g.Path != "" {
			owned = append(owned, g)
			n += g.Count
		}
	}
	slices.SortStableFunc(owned, func(a, b GoroutineStack) int { return strings.Compare(a.Path, b.Path) })
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s owned by the tree still running\n\n", n, plural(n, "goroutine", "goroutines"))
	writeStacks(&b, owned)
	return b.String()
}
