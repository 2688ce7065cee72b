package nakedgo_test

import (
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/shepherd-go/shepherd/cmd/nakedgo/nakedgo"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestPlainGoStatements covers every form of go statement: a call, a
// closure, a method value, a func value, one in a loop, nested ones, one in
// a test file, and one in a generated file, which is not reported.
func TestPlainGoStatements(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), nakedgo.Analyzer, "plain")
}

func TestOptOutDirective(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), nakedgo.Analyzer, "optout")
}

// TestForgottenSenderIsFixedWithABuffer checks both the reports and that
// applying every suggested fix yields forgotten.go.golden.
func TestForgottenSenderIsFixedWithABuffer(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), nakedgo.Analyzer, "forgotten")
}

// TestNotAForgottenSender pins the buffered fix and the shapes the leak
// check declines: each go statement gets the plain report and nothing more.
func TestNotAForgottenSender(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), nakedgo.Analyzer, "notleak")
}

func TestShepherdModuleIsExempt(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), nakedgo.Analyzer,
		"github.com/shepherd-go/shepherd/...",
		"github.com/shepherd-go/shepherd-contrib")
}

func TestExemptFlag(t *testing.T) {
	setFlag(t, "exempt", nakedgo.ShepherdPath+", acme/workers/")
	analysistest.Run(t, analysistest.TestData(), nakedgo.Analyzer, "acme/workers")
}

// TestTestsFlag runs with -tests=false: only the non-test file is reported.
func TestTestsFlag(t *testing.T) {
	setFlag(t, "tests", "false")
	analysistest.Run(t, analysistest.TestData(), nakedgo.Analyzer, "testfiles")
}

// setFlag sets one of the analyzer's flags for the rest of the test, the way
// a driver would from the command line.
func setFlag(t *testing.T, name, value string) {
	t.Helper()
	f := nakedgo.Analyzer.Flags.Lookup(name)
	old := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		t.Fatalf("-%s=%q: %v", name, value, err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}
