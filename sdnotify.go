package shepherd

import (
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// systemd's notify protocol (sd_notify(3)): newline-separated VAR=value
// assignments in one datagram on the unix socket named by NOTIFY_SOCKET,
// a path or, with a leading "@", a Linux abstract socket name (the net
// package maps "@" to the abstract namespace itself). Main speaks it when
// NOTIFY_SOCKET is set, so a unit with Type=notify learns when the tree
// is ready and when it stops, and WatchdogSec= restarts a process whose
// tree is no longer live.

// sdPoll is how often the notifier reads the tree for readiness and
// status changes: a Snapshot every 100 ms costs nothing next to a
// service's work, and keeps the notifier out of the supervisor's loop.
const sdPoll = 100 * time.Millisecond

// sdStopMargin is added to the shutdown budget in EXTEND_TIMEOUT_USEC:
// after the budget, Main still writes the stuck report and returns.
const sdStopMargin = time.Second

// A notifier tells systemd about the tree Main runs. Its goroutine is
// Main's: stop waits for it.
type notifier struct {
	conn     net.Conn
	root     *Supervisor   // nil when Main runs a Service that is not a Supervisor
	watchdog time.Duration // WATCHDOG_USEC, or 0
	poke     chan struct{} // a stop began: report it now
	done     chan struct{}
	wg       sync.WaitGroup
	st       sdState // what systemd was told: run's, then stop's once run returned
}

// startNotifier returns nil when NOTIFY_SOCKET is unset or cannot be
// reached; a program started outside systemd behaves as without it.
func startNotifier(svc Service) *notifier {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return nil
	}
	n := &notifier{conn: conn, poke: make(chan struct{}, 1), done: make(chan struct{})}
	n.root, _ = svc.(*Supervisor)
	n.watchdog = watchdogInterval()
	n.wg.Add(1)
	go n.run()
	return n
}

// watchdogInterval reads WATCHDOG_USEC, unless WATCHDOG_PID names another
// process (the watchdog was meant for a parent that started this one).
func watchdogInterval() time.Duration {
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	us, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || us <= 0 {
		return 0
	}
	return time.Duration(us) * time.Microsecond
}

func (n *notifier) send(msg string) {
	_, _ = n.conn.Write([]byte(msg)) // systemd not listening is no reason to stop the service
}

// stop ends the notifier's goroutine and closes its socket.
func (n *notifier) stop() {
	if n == nil {
		return
	}
	close(n.done)
	n.wg.Wait()
	// The tree may have stopped between two polls: systemd hears of it
	// before the process exits.
	n.step(false, false)
	_ = n.conn.Close()
}

// signalled tells systemd the stop began on a signal, at once, rather
// than at the next poll.
func (n *notifier) signalled() {
	if n == nil {
		return
	}
	select {
	case n.poke <- struct{}{}:
	default:
	}
}

func (n *notifier) run() {
	defer n.wg.Done()
	poll := time.NewTicker(sdPoll)
	defer poll.Stop()
	var ping <-chan time.Time
	if n.watchdog > 0 {
		t := time.NewTicker(n.watchdog / 2)
		defer t.Stop()
		ping = t.C
	}
	n.step(false, false)
	for {
		signalled, pinged := false, false
		select {
		case <-n.done:
			return
		case <-poll.C:
		case <-n.poke:
			signalled = true
		case <-ping:
			pinged = true
		}
		n.step(signalled, pinged)
	}
}

// sdState is what the notifier has told systemd so far.
type sdState struct {
	ready, stopping bool
	status          string
}

func (n *notifier) step(signalled, pinged bool) {
	var snap *Node
	if n.root != nil {
		s := n.root.Snapshot()
		snap = &s
	}
	var budget time.Duration
	if n.root != nil {
		budget = n.root.cfg.shutdownTimeout
	}
	if msg := sdMessage(&n.st, snap, signalled, pinged, budget); msg != "" {
		n.send(msg)
	}
}

// sdMessage decides what to tell systemd given what it was told (st, which
// it updates) and the tree now (snap; nil for a Service that is not a
// Supervisor, which is ready once Main runs it and live while it runs).
// signalled says a stop began on a signal; pinged that a watchdog
// interval's half passed. It returns one datagram, or "" for nothing new.
func sdMessage(st *sdState, snap *Node, signalled, pinged bool, budget time.Duration) string {
	var lines []string
	stopping := signalled || (snap != nil && (snap.State == StateStopping || snap.State >= StateStopped))
	if stopping && !st.stopping {
		st.stopping = true
		lines = append(lines, "STOPPING=1")
		if budget > 0 {
			// Without it systemd kills a drain that outlasts TimeoutStopSec
			// though it is within the tree's own budget.
			lines = append(lines, "EXTEND_TIMEOUT_USEC="+strconv.FormatInt((budget+sdStopMargin).Microseconds(), 10))
		}
	}
	ready := snap == nil || (snap.State == StateRunning && len(notReady(*snap, nil)) == 0)
	if ready && !st.ready && !st.stopping {
		st.ready = true
		lines = append(lines, "READY=1")
	}
	if status := sdStatus(snap, st.stopping); status != st.status {
		st.status = status
		lines = append(lines, "STATUS="+status)
	}
	if pinged && (snap == nil || len(notLive(*snap, nil)) == 0) {
		// A tree that is not live gets no ping: systemd's watchdog then
		// restarts the process, which is what a stuck service needs.
		lines = append(lines, "WATCHDOG=1")
	}
	return strings.Join(lines, "\n")
}

// sdStatus is the one line systemctl status shows for the tree.
func sdStatus(snap *Node, stopping bool) string {
	if snap == nil {
		if stopping {
			return "stopping"
		}
		return "running"
	}
	if dead := notLive(*snap, nil); len(dead) > 0 {
		return "not live: " + sdList(dead)
	}
	if stopping {
		return "stopping"
	}
	if waiting := notReady(*snap, nil); len(waiting) > 0 {
		return "not ready: " + sdList(waiting)
	}
	n := countServices(*snap)
	return "ready: " + strconv.Itoa(n) + " " + plural(n, "service", "services")
}

// sdList names at most three entries, so the status stays one short line.
func sdList(es []probeEntry) string {
	var parts []string
	for i, e := range es {
		if i == 3 {
			parts = append(parts, "and "+strconv.Itoa(len(es)-3)+" more")
			break
		}
		parts = append(parts, e.Path+" "+e.State)
	}
	return strings.Join(parts, ", ")
}

func countServices(n Node) int {
	c := 0
	for _, ch := range n.Children {
		if ch.Kind == "supervisor" {
			c += countServices(ch)
		} else {
			c++
		}
	}
	return c
}
