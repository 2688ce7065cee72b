package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRootReadmeOutput runs the commands whose output the repository's
// README pastes, over the examples, and fails if the pasted output is no
// longer what they print.
func TestRootReadmeOutput(t *testing.T) {
	_, bin := buildNakedgo(t)
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
		out, exit := run(t, root, bin, tc.args...)
		got := strings.ReplaceAll(out, root+string(filepath.Separator), "")
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
