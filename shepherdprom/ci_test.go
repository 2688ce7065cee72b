package shepherdprom_test

import (
	"os"
	"testing"
)

// requireInCI skips a test that needs tool, except in CI (CI set), which
// installs it: there a missing tool fails the test.
func requireInCI(t *testing.T, tool string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; CI installs it with apt-get install prometheus", tool)
	}
	t.Skipf("%s is not installed (apt-get install prometheus)", tool)
}
