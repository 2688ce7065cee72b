// Package contrib has a path that merely starts with the library's: it is
// not part of it and is checked.
package contrib

func Start() {
	go func() {}() // want `go statement starts a goroutine with no owner`
}
