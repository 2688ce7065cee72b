package shepherd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shepherd-go/shepherd/goroutines"
)

// Livez wraps a liveness handler, such as Livez(root): while the last
// sample found a node past its MaxGoroutines, it answers 503 naming each
// such owner, its count and where its goroutines wait, so that Kubernetes
// or another watchdog probing this handler restarts the process before a
// leak exhausts its memory; otherwise it passes the request to next. The
// failure was logged as an event (Err a *goroutines.LimitError) when the sample found it, before
// any probe saw it. It is opt-in: a program that wants a leak reported but
// not acted on serves Livez(root) alone. The systemd watchdog pings that
// Main sends judge the tree as Livez(root) does and do not consult the
// sampler: under systemd's watchdog alone, a ceiling passed is reported,
// not acted on.
func (s *GoroutineSampler) Livez(next http.Handler) http.Handler {
	if next == nil {
		panic("shepherd: GoroutineSampler.Livez(nil): pass the liveness handler to wrap, such as shepherd.Livez(sup)")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		var over []*goroutines.LimitError
		for _, e := range s.over {
			over = append(over, e)
		}
		s.mu.Unlock()
		if len(over) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		slices.SortFunc(over, func(a, b *goroutines.LimitError) int { return strings.Compare(a.Path, b.Path) })
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			entries := make([]probeEntry, len(over))
			for i, e := range over {
				entries[i] = probeEntry{Path: e.Path, State: "goroutine limit", Error: e.Error()}
			}
			_ = json.NewEncoder(w).Encode(struct {
				Status   string       `json:"status"`
				Services []probeEntry `json:"services"`
			}{"not live", entries})
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		if _, err := fmt.Fprintln(w, "not live"); err != nil {
			return // the prober has gone: nobody reads the rest
		}
		for _, e := range over {
			if _, err := fmt.Fprintf(w, "%s goroutine limit: %s\n", e.Path, e.Error()); err != nil {
				return
			}
		}
	})
}
