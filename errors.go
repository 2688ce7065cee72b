package shepherd

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// ErrClosed is returned when work is handed to a Supervisor or Pool that
// has stopped or is draining and no longer accepts it. The error returned
// names the pool or supervisor; errors.Is(err, ErrClosed) matches it.
var ErrClosed = errors.New("shepherd: closed")

// scopedError is a sentinel condition told about one pool or supervisor:
// the message names it and says what to do, and errors.Is still matches
// the sentinel. Pools make theirs once, so returning one costs nothing.
type scopedError struct {
	msg string
	is  error
}

func (e *scopedError) Error() string { return e.msg }
func (e *scopedError) Unwrap() error { return e.is }

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

// Error names the task and its failure: task "app/api": ….
func (e *TaskError) Error() string { return "task " + quote(e.Path) + ": " + e.Err.Error() }

// Unwrap returns the task's own error, so errors.Is and errors.As see it.
func (e *TaskError) Unwrap() error { return e.Err }

// attribute wraps err in a TaskError for path unless err already names a
// task at or below path, or is a report that names its services itself.
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
	case *StuckError, *RestartLimitError:
		return err
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
	// Only ctx's own error echoes it: a deadline exceeded inside a task
	// whose context was cancelled is a failure of its own.
	done, cause := ctx.Err(), context.Cause(ctx)
	return only(err, func(e error) bool {
		return e == cause || errors.Is(e, done) || errors.Is(e, cause)
	})
}

// only reports whether every error err combines matches: a combination of
// a real failure with an echo is a failure. errors.Is alone would answer
// for any one of them.
func only(err error, match func(error) bool) bool {
	if err == nil {
		return false
	}
	if match(err) && !combines(err) {
		return true
	}
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		errs := e.Unwrap()
		for _, x := range errs {
			if !only(x, match) {
				return false
			}
		}
		return len(errs) > 0
	case interface{ Unwrap() error }:
		return only(e.Unwrap(), match)
	}
	return false
}

// combines reports whether err, or an error it wraps, holds several errors.
func combines(err error) bool {
	for err != nil {
		if _, ok := err.(interface{ Unwrap() []error }); ok {
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}

func quote(s string) string { return strconv.Quote(s) }
