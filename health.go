package shepherd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Readyz returns an HTTP handler for a readiness probe (Kubernetes'
// readinessProbe, a load balancer's health check) derived from the tree
// under root.
//
// It answers 200 "ready" once the supervisor runs and every service in the
// tree has signalled ready (or finished cleanly), and 503 otherwise: while
// services start or wait to restart, and from the moment the supervisor
// begins to stop, before any listener closes (see DrainDelay). The 503 body
// names each service that is not ready, with its state. With "?format=json"
// or "Accept: application/json" the body is JSON:
//
//	{"status":"not ready","services":[{"path":"app/db","state":"starting"}]}
func Readyz(root *Supervisor) http.Handler {
	if root == nil {
		panic("shepherd: Readyz(nil): pass the root *Supervisor")
	}
	return probe{root: root, ok: "ready", not: "not ready", check: notReady}
}

// Livez returns an HTTP handler for a liveness probe derived from the tree
// under root. It answers 200 "live" unless the tree is beyond saving: a
// service is stuck (it did not return within a shutdown budget) or the
// supervisor's Run returned with a failure, for example past its
// MaxRestarts. Then it answers 503 naming the services at fault, and the
// orchestrator restarts the process. A service that is merely restarting
// or stopping is alive: restarting the process would not help it.
func Livez(root *Supervisor) http.Handler {
	if root == nil {
		panic("shepherd: Livez(nil): pass the root *Supervisor")
	}
	return probe{root: root, ok: "live", not: "not live", check: notLive}
}

type probe struct {
	root    *Supervisor
	ok, not string
	check   func(n Node, out []probeEntry) []probeEntry
}

type probeEntry struct {
	Path  string `json:"path"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

func (p probe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bad := p.check(p.root.Snapshot(), nil)
	status, code := p.ok, http.StatusOK
	if len(bad) > 0 {
		status, code = p.not, http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(struct {
			Status   string       `json:"status"`
			Services []probeEntry `json:"services,omitempty"`
		}{status, bad})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	if _, err := fmt.Fprintln(w, status); err != nil {
		return // the prober has gone: nobody reads the rest
	}
	for _, e := range bad {
		var err error
		if e.Error != "" {
			_, err = fmt.Fprintf(w, "%s %s: %s\n", e.Path, e.State, e.Error)
		} else {
			_, err = fmt.Fprintf(w, "%s %s\n", e.Path, e.State)
		}
		if err != nil {
			return
		}
	}
}

// notReady lists the nodes that keep the tree from being ready. A
// supervisor that is itself running is judged by its services.
func notReady(n Node, out []probeEntry) []probeEntry {
	switch n.State {
	case StateRunning:
	case StateStopped:
		if n.Kind != "supervisor" {
			return out // finished cleanly while the rest runs on
		}
		fallthrough
	default:
		return append(out, probeEntryOf(n))
	}
	for _, c := range n.Children {
		out = notReady(c, out)
	}
	return out
}

// notLive lists the stuck nodes, and the root if its Run failed.
func notLive(n Node, out []probeEntry) []probeEntry {
	if n.State == StateFailed {
		out = append(out, probeEntryOf(n))
	}
	return stuck(n, out)
}

func stuck(n Node, out []probeEntry) []probeEntry {
	if n.State == StateStuck {
		out = append(out, probeEntryOf(n))
	}
	for _, c := range n.Children {
		out = stuck(c, out)
	}
	return out
}

func probeEntryOf(n Node) probeEntry {
	e := probeEntry{Path: n.Path, State: n.State.String()}
	if n.LastErr != nil && (n.State == StateFailed || n.State == StateStuck) {
		e.Error = n.LastErr.Error()
	}
	return e
}
