package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// A module with one go statement in each kind of file: the package, an
// in-package test and an external test.
var demo = map[string]string{
	"go.mod": "module example.com/demo\n\ngo 1.26\n",
	"demo.go": `package demo

func Start(f func()) {
	go f()
}
`,
	"demo_test.go": `package demo

import "testing"

func TestStart(t *testing.T) {
	done := make(chan struct{})
	go close(done)
	<-done
}
`,
	"x_test.go": `package demo_test

import "testing"

func TestX(t *testing.T) {
	done := make(chan struct{})
	go close(done)
	<-done
}
`,
}

// TestDriversAndTestFiles pins what the README promises about running the
// command standalone and under go vet, and which of -test=false and
// -tests=false leaves test files out under each. It builds the command and
// runs the go command, so it is skipped in -short mode.
func TestDriversAndTestFiles(t *testing.T) {
	goCmd, bin := buildNakedgo(t)
	dir := t.TempDir()
	for name, text := range demo {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}

	all := []string{"demo.go", "demo_test.go", "x_test.go"}
	tests := []struct {
		args      []string
		wantFiles []string
		wantExit  int
	}{
		{[]string{bin, "./..."}, all, 3},
		{[]string{bin, "-test=false", "./..."}, []string{"demo.go"}, 3},
		{[]string{bin, "-tests=false", "./..."}, []string{"demo.go"}, 3},
		{[]string{bin, "-exempt=example.com/demo", "./..."}, nil, 0},
		{[]string{goCmd, "vet", "-vettool=" + bin, "./..."}, all, 1},
		// go vet forwards -test=false, but the go command picks the files
		// and always includes tests, so the flag changes nothing.
		{[]string{goCmd, "vet", "-vettool=" + bin, "-test=false", "./..."}, all, 1},
		{[]string{goCmd, "vet", "-vettool=" + bin, "-tests=false", "./..."}, []string{"demo.go"}, 1},
	}
	for _, tt := range tests {
		out, exit := run(t, dir, tt.args[0], tt.args[1:]...)
		if got := reportedFiles(string(out)); exit != tt.wantExit || !slices.Equal(got, tt.wantFiles) {
			t.Errorf("%s: exit %d, reports in %q; want exit %d, reports in %q\n%s",
				strings.Join(tt.args[1:], " "), exit, got, tt.wantExit, tt.wantFiles, out)
		}
	}
}

// reportedFiles lists, sorted and once each, the base names of the files
// that "no owner" reports in out point into.
func reportedFiles(out string) []string {
	var files []string
	for line := range strings.Lines(out) {
		if !strings.Contains(line, "with no owner") {
			continue
		}
		file, _, _ := strings.Cut(line, ":")
		files = append(files, filepath.Base(file))
	}
	slices.Sort(files)
	return slices.Compact(files)
}

// buildNakedgo builds the command into a temporary directory and returns
// the go command and the binary. Tests that call it build and load
// packages, so they are skipped in -short mode.
func buildNakedgo(t *testing.T) (goCmd, bin string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds nakedgo and runs the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	bin = filepath.Join(t.TempDir(), "nakedgo")
	if out, err := exec.Command(goCmd, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return goCmd, bin
}

// run runs name with args in dir and returns its combined output and exit
// code; it fails the test only if the command could not run at all.
func run(t *testing.T, dir, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
		return string(out), exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
	}
	return string(out), 0
}
