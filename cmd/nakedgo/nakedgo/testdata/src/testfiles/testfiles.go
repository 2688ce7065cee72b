// Package testfiles is checked with -tests=false: its test files are
// skipped, the rest is not.
package testfiles

func Start(f func()) {
	go f() // want `go statement starts a goroutine with no owner`
}
