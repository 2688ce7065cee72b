// Package workers is a user's own home for goroutines; the test exempts it
// with -exempt, so nothing here is reported.
package workers

func Start(f func()) {
	go f()
}
