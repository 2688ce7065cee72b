//go:build !race

package shepherd_test

const raceEnabled = false
