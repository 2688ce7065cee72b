package shepherd

import (
	"encoding/json"
	"errors"
	"time"
)

// MarshalText returns the state's name, such as "running", so that a State
// reads as a word in JSON, in map keys and in slog attributes.
func (s State) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(stateNames) {
		return nil, errors.New("shepherd: State.MarshalText: " + s.String() + " is not a state")
	}
	return []byte(stateNames[s]), nil
}

// UnmarshalText sets s to the state named text, as MarshalText writes it.
func (s *State) UnmarshalText(text []byte) error {
	for i, name := range stateNames {
		if name == string(text) {
			*s = State(i)
			return nil
		}
	}
	return errors.New("shepherd: State.UnmarshalText: " + quote(string(text)) + " is not a state; want one of idle, starting, running, restarting, stopping, stopped, failed, stuck")
}

// nodeJSON is a Node's own fields as JSON. It is the one encoding of a
// node: Node.MarshalJSON writes it with the children, and the debug page
// writes it with the goroutines it adds (see DebugHandler for the fields).
type nodeJSON struct {
	Path     string     `json:"path"`
	Kind     string     `json:"kind"`
	State    State      `json:"state"`
	Since    *time.Time `json:"since,omitempty"`
	Started  *time.Time `json:"started,omitempty"`
	Restarts int        `json:"restarts"`
	LastErr  string     `json:"last_error,omitempty"`
	Stats    *PoolStats `json:"stats,omitempty"`
}

func newNodeJSON(n Node) nodeJSON {
	j := nodeJSON{Path: n.Path, Kind: n.Kind, State: n.State, Restarts: n.Restarts, Stats: n.Stats}
	if !n.Since.IsZero() {
		since := n.Since.UTC()
		j.Since = &since
	}
	if !n.Started.IsZero() {
		started := n.Started.UTC()
		j.Started = &started
	}
	if n.LastErr != nil {
		j.LastErr = n.LastErr.Error()
	}
	return j
}

// MarshalJSON encodes the node and its children as the debug page's JSON
// form does, without the goroutines: snake_case keys, the state by name,
// times in RFC 3339 (UTC), the last error as its text. DebugHandler's doc
// lists the fields. A Snapshot is read-only data, so with expvar the live
// tree is one line:
//
//	expvar.Publish("shepherd", expvar.Func(func() any { return sup.Snapshot() }))
func (n Node) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		nodeJSON
		Children []Node `json:"children,omitempty"`
	}{newNodeJSON(n), n.Children})
}
