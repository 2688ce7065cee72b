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

	"github.com/shepherd-go/shepherd/goroutines"
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
	// exitForced is added to the signal number when a second signal forced
	// Main to return before the shutdown finished: 130 for SIGINT, 143 for
	// SIGTERM, the shell's convention for "killed by a signal".
	exitForced = 128
)

// mainConfig holds what Main fixes and its tests vary (export_test.go):
// the signals, the logger of the outcome and where the stuck report goes.
type mainConfig struct {
	signals []os.Signal
	log     *slog.Logger
	report  io.Writer
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
//
// Main logs the outcome to the Supervisor's Logger, if svc is a Supervisor
// that has one, else to slog.Default(). The stuck report of a shutdown
// that did not finish within its budget, and the stacks of the goroutines
// still running when a second signal forced the exit, are many lines of
// plain text: they go to os.Stderr, where orchestrators collect them. A
// program that stops on other signals, or wants the report elsewhere,
// runs sup.Run under its own signal.NotifyContext and prints the
// *StuckError's Report itself.
func Main(svc Service) int {
	return runMain(svc, mainConfig{signals: []os.Signal{os.Interrupt, syscall.SIGTERM}, report: os.Stderr})
}

// runMain is Main with its settings.
func runMain(svc Service, cfg mainConfig) int {
	if svc == nil {
		panic("shepherd: Main(nil): pass the service (usually a *Supervisor) to run")
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
			setLabels(pprof.WithLabels(ctx, pprof.Labels(labelPath, sup.name, labelTree, newTreeID(sup))))
		}
		var err error = &TaskError{Path: "main", Err: ErrGoexit} // replaced unless svc.Run calls runtime.Goexit
		defer func() { errc <- err }()
		err = catch("main", func() error { return svc.Run(ctx) })
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
		code := exitForced
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
	var owned []goroutines.Stack
	n := 0
	for _, g := range goroutines.All() {
		if g.Path != "" {
			owned = append(owned, g)
			n += g.Count
		}
	}
	slices.SortStableFunc(owned, func(a, b goroutines.Stack) int { return strings.Compare(a.Path, b.Path) })
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s owned by the tree still running\n\n", n, plural(n, "goroutine", "goroutines"))
	writeStacks(&b, owned)
	return b.String()
}
