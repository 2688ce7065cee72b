package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// golangciVersion is the golangci-lint that CI installs (.ci/run) and the
// README tells teams to build nakedgo into; TestGolangciPlugin builds this
// one.
const golangciVersion = "v2.15.0"

// TestGolangciPlugin builds a custom golangci-lint with nakedgo as a
// module plugin, the way cmd/nakedgo/README.md tells a team to, and runs
// it on testdata/golangci, a module with a bare go statement and a
// forgotten sender.
//
// `golangci-lint custom` clones golangci-lint's git repository at the
// version asked for. Where that repository cannot be reached but the Go
// module proxy can, the test makes a local git repository of the same
// version from the module's source and points git's URL at it, so the
// real custom command still runs every step of its build. The test is
// skipped when even the module cannot be fetched, unless CI is set, where
// it fails instead.
func TestGolangciPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a custom golangci-lint, which takes minutes")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	checkPinned(t)
	tmp := t.TempDir()
	started := time.Now()
	gcl, env := golangciCommand(t, goCmd, tmp)

	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	conf := "version: " + golangciVersion + "\nname: custom-gcl\ndestination: " + tmp + "\nplugins:\n" +
		"  - module: github.com/shepherd-go/shepherd/cmd/nakedgo\n" +
		"    import: github.com/shepherd-go/shepherd/cmd/nakedgo/golangci\n" +
		"    path: " + here + "\n"
	build := filepath.Join(tmp, "build")
	if err := os.MkdirAll(build, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(build, ".custom-gcl.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gcl, "custom", "-v")
	cmd.Dir, cmd.Env = build, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("golangci-lint custom: %v\n%s", err, out)
	}
	t.Logf("custom golangci-lint %s built in %v", golangciVersion, time.Since(started).Round(time.Second))

	report := filepath.Join(tmp, "report.json")
	cmd = exec.Command(filepath.Join(tmp, "custom-gcl"), "run", "--output.json.path="+report, "./...")
	cmd.Dir = filepath.Join(here, "testdata", "golangci")
	cmd.Env = append(env, "GOLANGCI_LINT_CACHE="+filepath.Join(tmp, "lintcache"))
	text, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("custom-gcl run: %v\n%s", err, text)
	}
	t.Logf("custom-gcl run:\n%s", text)
	out, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var issues struct {
		Issues []struct {
			FromLinter string
			Text       string
			Pos        struct {
				Filename     string
				Line, Column int
			}
		}
	}
	if err := json.Unmarshal(out, &issues); err != nil {
		t.Fatalf("custom-gcl run output: %v\n%s", err, out)
	}
	var got []string
	for _, is := range issues.Issues {
		got = append(got, is.FromLinter+" "+filepath.Base(is.Pos.Filename)+":"+strconv.Itoa(is.Pos.Line)+":"+strconv.Itoa(is.Pos.Column)+" "+
			strings.SplitN(is.Text, ";", 2)[0])
	}
	want := []string{
		"nakedgo fixture.go:9:2 go statement starts a goroutine with no owner: nothing waits for it, cancels it or sees its panic",
		"nakedgo fixture.go:15:8 nakedgo(related information): channel made without a buffer here",
		"nakedgo fixture.go:16:2 go statement starts a goroutine with no owner: nothing waits for it, cancels it or sees its panic",
		"nakedgo fixture.go:17:3 forgotten sender: this send on unbuffered channel ch blocks forever once the select receiving from it takes another case",
		"nakedgo fixture.go:22:2 nakedgo(related information): the receiver can leave through this case",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("custom-gcl run reported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// golangciCommand returns a golangci-lint of the pinned version to run
// `custom` with, and the environment to run it in.
func golangciCommand(t *testing.T, goCmd, tmp string) (string, []string) {
	t.Helper()
	out, err := exec.Command(goCmd, "mod", "download", "-json", "github.com/golangci/golangci-lint/v2@"+golangciVersion).Output()
	var mod struct{ Dir, Error string }
	if err == nil {
		err = json.Unmarshal(out, &mod)
	}
	if err != nil || mod.Error != "" || mod.Dir == "" {
		msg := "cannot fetch golangci-lint " + golangciVersion + " through the Go module proxy (" + strings.TrimSpace(mod.Error+" "+errString(err)) + ")"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI is set, so the plugin test must run")
		}
		t.Skip(msg + "; skipping the plugin test (it is required when CI is set)")
	}
	env := os.Environ()
	gcl := filepath.Join(tmp, "golangci-lint")
	if p, err := exec.LookPath("golangci-lint"); err == nil && strings.Contains(outputOf(p, "version"), "version "+strings.TrimPrefix(golangciVersion, "v")+" ") {
		gcl = p
	} else if out, err := exec.Command(goCmd, "build", "-C", mod.Dir, "-o", gcl, "./cmd/golangci-lint").CombinedOutput(); err != nil {
		t.Fatalf("go build golangci-lint %s: %v\n%s", golangciVersion, err, out)
	}
	const upstream = "https://github.com/golangci/golangci-lint.git"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if exec.CommandContext(ctx, "git", "ls-remote", "--tags", upstream, golangciVersion).Run() == nil {
		return gcl, env
	}
	// The same source as a local repository, tagged as the version.
	repo := filepath.Join(tmp, "golangci-lint.git")
	if err := os.CopyFS(repo, os.DirFS(mod.Dir)); err != nil {
		t.Fatal(err)
	}
	gitEnv := append(env, "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com")
	for _, args := range [][]string{
		{"init", "-q"}, {"add", "-A", "-f"}, {"commit", "-q", "-m", golangciVersion}, {"tag", golangciVersion},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = repo, gitEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// golangci-lint custom passes GIT_CONFIG_* through to git clone.
	return gcl, append(env, "GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=url.file://"+repo+".insteadOf", "GIT_CONFIG_VALUE_0="+upstream)
}

// checkPinned fails when CI installs another golangci-lint than the one
// this test builds on.
func checkPinned(t *testing.T) {
	t.Helper()
	ci, err := os.ReadFile(filepath.Join("..", "..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "golangci-lint@"+golangciVersion) {
		t.Errorf(".ci/run does not install golangci-lint@%s; keep it and golangciVersion in step", golangciVersion)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"version: " + golangciVersion,
		"module: github.com/shepherd-go/shepherd/cmd/nakedgo",
		"import: github.com/shepherd-go/shepherd/cmd/nakedgo/golangci",
		"type: module",
		"golangci-lint custom ",
		"./custom-gcl run ./...",
	} {
		if !strings.Contains(string(readme), line) {
			t.Errorf("README.md does not say %q, which this test builds and runs with", line)
		}
	}
}

func outputOf(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	return string(out)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
