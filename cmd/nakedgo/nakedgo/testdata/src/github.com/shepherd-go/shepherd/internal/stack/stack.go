// Package stack stands in for the library's internal packages, which are
// exempt along with it.
package stack

func Capture() {
	go func() {}()
}
