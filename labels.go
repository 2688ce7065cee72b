package shepherd

import (
	"context"
	"fmt"
	"runtime/pprof"

	"github.com/shepherd-go/shepherd/goroutines"
)

// labelPath is the pprof label key of a goroutine's owner; see
// goroutines.Label.
const labelPath = goroutines.Label

// labelTree is the pprof label key of a goroutine's tree; see
// goroutines.TreeLabel.
const labelTree = goroutines.TreeLabel

// newTreeID returns an identity for a root supervisor's tree: the
// supervisor's address, unique among the supervisors alive, which is all
// that its goroutines need to be told from another tree's.
func newTreeID(s *Supervisor) string { return fmt.Sprintf("%p", s) }

// treeContext gives ctx the tree label of a root supervisor.
func treeContext(ctx context.Context, id string) context.Context {
	return pprof.WithLabels(ctx, pprof.Labels(labelTree, id))
}

// scopeKey is the context key under which a task's scope travels, so that a
// Group or Supervisor created inside a task extends its owner's path and
// reports to its owner's sinks.
type scopeKey struct{}

// scope is what a task knows about where it lives in the tree.
type scope struct {
	path string
	ev   *events   // nil when nobody listens
	cap  *taskCap  // nil when no supervisor above sets MaxTasks
	seq  *sequence // the order of the tree's events; set for a supervisor's services
}

func scopeOf(ctx context.Context) *scope {
	s, _ := ctx.Value(scopeKey{}).(*scope)
	return s
}

// Path returns the shepherd path of the task or service that ctx belongs
// to, such as "app/api", or "" when ctx did not come from shepherd.
func Path(ctx context.Context) string {
	if s := scopeOf(ctx); s != nil {
		return s.path
	}
	return ""
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "/" + name
}

// scopedContext derives the context a task or service runs with: its
// scope and its pprof label. It allocates, so callers build it once per
// name and reuse it rather than once per goroutine.
//
// The labels are the outermost value so that setLabels, which every task
// goroutine calls first thing, finds them without walking the chain: on a
// fresh goroutine each extra frame touches cold stack.
func scopedContext(parent context.Context, s *scope) context.Context {
	ctx := context.WithValue(parent, scopeKey{}, s)
	return pprof.WithLabels(ctx, pprof.Labels(labelPath, s.path))
}

// taskContext is scopedContext for a caller that does not know the
// MaxTasks cap it lives under: it takes the cap from parent's scope.
func taskContext(parent context.Context, path string, ev *events) context.Context {
	var cap *taskCap
	if s := scopeOf(parent); s != nil {
		cap = s.cap
	}
	return scopedContext(parent, &scope{path: path, ev: ev, cap: cap})
}

// setLabels gives the calling goroutine the pprof labels carried by ctx;
// goroutines it starts later inherit them.
func setLabels(ctx context.Context) { pprof.SetGoroutineLabels(ctx) }

// taskCap is a supervisor's MaxTasks: slots shared by every Group task
// below it, and the cap of the supervisor above, which binds too.
type taskCap struct {
	slots  chan struct{}
	parent *taskCap
}

// acquire takes a slot in c and every cap above it, outermost first so that
// no two tasks hold slots the other waits for. It blocks until done is
// closed; with a nil done it does not block. It reports whether it got all
// the slots, and holds none if not.
func (c *taskCap) acquire(done <-chan struct{}) bool {
	if c.parent != nil && !c.parent.acquire(done) {
		return false
	}
	if done == nil {
		select {
		case c.slots <- struct{}{}:
			return true
		default:
		}
	} else {
		select {
		case c.slots <- struct{}{}:
			return true
		case <-done:
		}
	}
	if c.parent != nil {
		c.parent.release()
	}
	return false
}

func (c *taskCap) release() {
	<-c.slots
	if c.parent != nil {
		c.parent.release()
	}
}

// treeID returns the identity of the tree s runs in, "" before its first
// Run: what its goroutines carry under labelTree.
func (s *Supervisor) treeID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tree
}
