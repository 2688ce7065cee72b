package shepherd

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// ErrClosed is returned when work is handed to a Supervisor or Pool that
// has stopped or is draining and no longer accepts it.
var ErrClosed = errors.New("shepherd: closed")

// TaskError attributes a failure to the task or service that returned it.
// Errors returned by Wait and Run wrap each failure in a TaskError unless
// the failure already names a task inside it (a *TaskError or *PanicError
// from a nested scope), so messages read "task "app/api": listen: address
// in use" without repeating paths.
type TaskError struct {
	// Path is the task's path, such as "app/api" or "fetch users".
	Path string
	// Err is what the task returned.
	Err error
}

func (e *TaskError) Error() string { return "task " + quote(e.Path) + ": " + e.Err.Error() }

// Unwrap returns the task's own error, so errors.Is and errors.As see it.
func (e *TaskError) Unwrap() error { return e.Err }

// attribute wraps err in a TaskError for path unless err already names a
// task at or below path.
func attribute(path string, err error) error {
	switch e := err.(type) {
	case *TaskError:
		if strings.HasPrefix(e.Path, path) {
			return err
		}
	case *PanicError:
		if strings.HasPrefix(e.Task, path) {
			return err
		}
	}
	return &TaskError{Path: path, Err: err}
}

// echoes reports whether err, returned by a task after ctx was cancelled,
// only repeats that cancellation. Such errors are the expected way for a
// task to say "I stopped because you told me to" and are not failures.
func echoes(ctx context.Context, err error) bool {
	if ctx.Err() == nil {
		return false
	}
	return errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Cause(ctx))
}

func quote(s string) string { return strconv.Quote(s) }
