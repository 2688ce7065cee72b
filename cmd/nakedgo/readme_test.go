package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRootReadmeOutput runs the commands whose output the repository's
// README pastes, over the examples, and fails if the pasted output is no
// longer what they print. It is skipped in -short mode, like the other
// tests that build the command.
func TestRootReadmeOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nakedgo and loads the examples")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	bin := filepath.Join(t.TempDir(), "nakedgo")
	if out, err := exec.Command(goCmd, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args     []string
		wantExit int
	}{
		{[]string{"-exempt=", "-tests=false", "./examples/..."}, 3},
		{[]string{"-exempt=", "-fix", "-diff", "./examples/forgotten-sender"}, 0},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOWORK=off")
		out, err := cmd.CombinedOutput()
		exit := 0
		if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
			exit = exitErr.ExitCode()
		} else if err != nil {
			t.Fatalf("nakedgo %s: %v", strings.Join(tc.args, " "), err)
		}
		got := strings.ReplaceAll(string(out), root+string(filepath.Separator), "")
		prompt := "$ nakedgo " + strings.Join(tc.args, " ") + "\n"
		want, ok := pasted(string(readme), prompt)
		if !ok {
			t.Errorf("README.md has no %q followed by output", strings.TrimSpace(prompt))
			continue
		}
		if exit != tc.wantExit || got != want {
			t.Errorf("nakedgo %s: exit %d, output\n%s\nREADME.md pastes (exit %d)\n%s",
				strings.Join(tc.args, " "), exit, got, tc.wantExit, want)
		}
	}
}

// pasted returns the lines after prompt in readme up to the next prompt or
// the end of the code block.
func pasted(readme, prompt string) (string, bool) {
	_, rest, ok := strings.Cut(readme, prompt)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for line := range strings.Lines(rest) {
		if strings.HasPrefix(line, "$ ") || strings.HasPrefix(line, "```") {
			break
		}
		b.WriteString(line)
	}
	return b.String(), true
}
