package shepherd_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

// TestSnapshotJSONIsTheDebugPagesJSON checks that json.Marshal of a
// Snapshot writes what the debug page's JSON form writes for the same
// tree, less the goroutines: states by name, errors as text, snake_case
// keys, RFC 3339 times.
func TestSnapshotJSONIsTheDebugPagesJSON(t *testing.T) {
	sup := shepherd.NewSupervisor("app")
	pool := shepherd.NewPool("reports", 1, func(ctx context.Context, n int) error { return nil })
	sup.Add("reports", pool)
	sup.Add("sync", shepherd.ServiceFunc(func(ctx context.Context) error { return errors.New("upstream gone") }))
	_ = sup.Run(context.Background())

	snap, err := json.Marshal(sup.Snapshot())
	if err != nil {
		t.Fatalf("json.Marshal(Snapshot()) = %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(snap, &got); err != nil {
		t.Fatal(err)
	}
	rec := get(t, shepherd.DebugHandler(sup), "GET", "/debug/shepherd?format=json&goroutines=0")
	var page struct{ Roots []map[string]any }
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	want := dropGoroutines(page.Roots[0])
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("json.Marshal(Snapshot()) =\n%s\nwant the debug page's node\n%s", g, w)
	}

	for _, s := range []string{`"state":"failed"`, `"last_error":"task \"app/sync\": upstream gone"`, `"handed_back":0`, `"kind":"pool"`} {
		if !strings.Contains(string(snap), s) {
			t.Errorf("json.Marshal(Snapshot()) = %s\nwant it to contain %s", snap, s)
		}
	}
	var decoded struct {
		Since    time.Time                        `json:"since"`
		Children []struct{ State shepherd.State } `json:"children"`
	}
	if err := json.Unmarshal(snap, &decoded); err != nil {
		t.Fatalf("decoding the Snapshot's JSON: %v", err)
	}
	if decoded.Since.IsZero() || decoded.Since.Location() != time.UTC {
		t.Errorf("since = %v; want an RFC 3339 time in UTC", decoded.Since)
	}
	if len(decoded.Children) != 2 || decoded.Children[1].State != shepherd.StateFailed {
		t.Errorf("children's states = %+v; want [stopped failed] decoded back into States", decoded.Children)
	}
}

func dropGoroutines(n map[string]any) map[string]any {
	delete(n, "goroutines")
	if cs, ok := n["children"].([]any); ok {
		for _, c := range cs {
			dropGoroutines(c.(map[string]any))
		}
	}
	return n
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStateText(t *testing.T) {
	for s := shepherd.StateIdle; s <= shepherd.StateStuck; s++ {
		b, err := s.MarshalText()
		if err != nil || string(b) != s.String() {
			t.Errorf("%v.MarshalText() = %q, %v; want %q", s, b, err, s.String())
		}
		var back shepherd.State
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back, err, s)
		}
	}
	if _, err := shepherd.State(42).MarshalText(); err == nil || !strings.HasPrefix(err.Error(), "shepherd: ") {
		t.Errorf("State(42).MarshalText() error = %v; want one starting \"shepherd: \"", err)
	}
	var s shepherd.State
	if err := s.UnmarshalText([]byte("bored")); err == nil || !strings.Contains(err.Error(), "running") {
		t.Errorf("UnmarshalText(\"bored\") error = %v; want one listing the states", err)
	}
}
