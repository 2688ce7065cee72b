package shepherd

import (
	"io"
	"log/slog"
	"os"
	"syscall"
)

// Names the external tests need that are not API: the defaults (a user
// omits the option instead of passing one), catch, and Main's settings.
const (
	DefaultShutdownTimeout = defaultShutdownTimeout
	DefaultMaxRestarts     = defaultMaxRestarts
	DefaultRestartPeriod   = defaultRestartPeriod
	DefaultQueuePerWorker  = defaultQueuePerWorker
)

var Catch = catch

// A MainOption varies Main's settings in tests.
type MainOption func(*mainConfig)

// MainWith is Main with settings.
func MainWith(svc Service, opts ...MainOption) int {
	cfg := mainConfig{signals: []os.Signal{os.Interrupt, syscall.SIGTERM}, report: os.Stderr}
	for _, o := range opts {
		o(&cfg)
	}
	return runMain(svc, cfg)
}

// MainLogger logs Main's outcome to l.
func MainLogger(l *slog.Logger) MainOption { return func(c *mainConfig) { c.log = l } }

// MainReport writes Main's stuck report and forced-exit stacks to w.
func MainReport(w io.Writer) MainOption { return func(c *mainConfig) { c.report = w } }

// Signals makes Main stop on sig instead of SIGINT and SIGTERM.
func Signals(sig ...os.Signal) MainOption { return func(c *mainConfig) { c.signals = sig } }
