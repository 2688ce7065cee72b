package shepherd

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// ErrGoexit is the failure of a task that called runtime.Goexit instead of
// returning, for example through t.FailNow in a test helper. shepherd
// reports it so that Wait and Run never hang on a task that vanished.
var ErrGoexit = errors.New("shepherd: runtime.Goexit called before the task returned")

// PanicError is the failure of a task that panicked. shepherd recovers every
// panic in the goroutines it starts and reports it as a *PanicError, so that
// the owner decides what happens instead of the runtime killing the process.
//
// errgroup deliberately lets panics crash the program; shepherd does not,
// because a supervisor that dies with its first misbehaving child cannot
// stop the others in order or report what happened.
type PanicError struct {
	// Task is the path of the task that panicked, such as "app/api".
	Task string
	// Value is the value passed to panic.
	Value any

	// The stack is captured as program counters, which is cheap, and only
	// symbolized when somebody asks for it.
	pcs []uintptr
}

// Error reports the task and the panic value. The stack is left out to keep
// log lines short; call Stack for it.
func (e *PanicError) Error() string {
	return fmt.Sprintf("task %q panicked: %v", e.Task, e.Value)
}

// Unwrap returns the panic value when it is an error, so that errors.Is and
// errors.As see through a panic(err).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Stack returns the stack of the panicking goroutine at the point of the
// panic, innermost call first, one "function\n\tfile:line" entry per frame.
func (e *PanicError) Stack() string {
	var b strings.Builder
	frames := runtime.CallersFrames(e.pcs)
	// The captured stack starts inside the recovering defer; the reader
	// wants it to start at the call that panicked.
	skipping := panicked(e.pcs)
	for {
		f, more := frames.Next()
		switch {
		case skipping && f.Function == "runtime.gopanic":
			skipping = false
			if more {
				// Frames such as runtime.panicmem sit between gopanic and
				// the faulting call; they are noise.
				for {
					f, more = frames.Next()
					if !strings.HasPrefix(f.Function, "runtime.") || !more {
						break
					}
				}
				fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
			}
		case !skipping:
			fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
		}
		if !more {
			return b.String()
		}
	}
}

// panicked reports whether runtime.gopanic is on the captured stack; when it
// is not (a stack captured some other way) Stack prints every frame.
func panicked(pcs []uintptr) bool {
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if f.Function == "runtime.gopanic" {
			return true
		}
		if !more {
			return false
		}
	}
}

// maxFrames bounds the frames a PanicError keeps, innermost first.
const maxFrames = 64

// pcBuffers holds scratch space for runtime.Callers. A buffer on the stack
// would be simpler, but its 512 bytes on top of the panic's own frames
// overflow a goroutine's initial stack, and the runtime would copy the
// stack for every panic.
var pcBuffers = sync.Pool{New: func() any { return new([maxFrames]uintptr) }}

// newPanicError must be called from the deferred function that recovered
// the panic, while the panicking frames are still on the stack. It records
// only program counters; Stack symbolizes them when asked.
//
// The error and its counters are one allocation: a batch where every task
// panics pays for each panic, and two allocations are a third more than
// one goroutine's own.
func newPanicError(task string, value any) *PanicError {
	buf := pcBuffers.Get().(*[maxFrames]uintptr)
	n := runtime.Callers(2, buf[:])
	var e *PanicError
	switch {
	case n <= 16:
		p := new(panicWith16)
		p.pcs = p.buf[:copy(p.buf[:], buf[:n])]
		e = &p.PanicError
	case n <= 32:
		p := new(panicWith32)
		p.pcs = p.buf[:copy(p.buf[:], buf[:n])]
		e = &p.PanicError
	default:
		p := new(panicWith64)
		p.pcs = p.buf[:copy(p.buf[:], buf[:n])]
		e = &p.PanicError
	}
	pcBuffers.Put(buf)
	e.Task, e.Value = task, value
	return e
}

// A PanicError with room for its program counters, in three sizes so that
// a shallow stack does not carry the space of a deep one.
type (
	panicWith16 struct {
		PanicError
		buf [16]uintptr
	}
	panicWith32 struct {
		PanicError
		buf [32]uintptr
	}
	panicWith64 struct {
		PanicError
		buf [maxFrames]uintptr
	}
)

// exitError turns the state of a task's deferred function into its
// failure: r is what recover returned after fn did not return normally.
// A nil r means the goroutine is unwinding through runtime.Goexit.
func exitError(path string, r any) error {
	switch r := r.(type) {
	case nil:
		return &TaskError{Path: path, Err: ErrGoexit}
	case *goexitReport:
		return r.err
	}
	return newPanicError(path, r)
}

// goexitReport carries the failure of a part of a task (an item of Map or
// ForEach) that called runtime.Goexit up to the task's deferred function.
// A goroutine that is exiting through Goexit cannot return a value, and a
// panic is the one thing its deferred functions can hand on: the task's
// recovers it, reports err, and the goroutine goes on exiting.
type goexitReport struct{ err error }

// catch calls fn and returns its error, turning a panic in fn into a
// *PanicError attributed to task. It cannot stop runtime.Goexit: the
// calling goroutine still exits. (A user's code gets the same from a Group
// of one task, with a name and cancellation besides.)
func catch(task string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(task, r)
		}
	}()
	return fn()
}
