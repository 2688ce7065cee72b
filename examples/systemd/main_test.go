package main

import (
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain runs the example itself when asked to, so the test can run it
// as a child process the way systemd does: with NOTIFY_SOCKET and
// WATCHDOG_USEC set, stopped by SIGTERM.
func TestMain(m *testing.M) {
	if os.Getenv("RUN_EXAMPLE") == "1" {
		os.Args = append([]string{os.Args[0]}, strings.Fields(os.Getenv("EXAMPLE_ARGS"))...)
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// unit reads the settings of shepherd-example.service's [Service] section.
func unit(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("shepherd-example.service")
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			kv[k] = v
		}
	}
	return kv
}

func seconds(t *testing.T, kv map[string]string, key string) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(kv[key])
	if err != nil {
		t.Fatalf("shepherd-example.service %s=%q: want whole seconds", key, kv[key])
	}
	return time.Duration(n) * time.Second
}

// TestUnitMatchesProgram checks the unit's numbers against the program's,
// then runs the program as the unit would and reads what it tells systemd.
func TestUnitMatchesProgram(t *testing.T) {
	kv := unit(t)
	if kv["Type"] != "notify" || kv["NotifyAccess"] != "main" || kv["KillSignal"] != "SIGTERM" {
		t.Errorf("unit: Type=%s NotifyAccess=%s KillSignal=%s; want notify, main, SIGTERM", kv["Type"], kv["NotifyAccess"], kv["KillSignal"])
	}
	args := strings.Fields(kv["ExecStart"])[1:]
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.String("addr", "", "")
	shutdown := fs.Duration("shutdown", defaultShutdown, "")
	if err := fs.Parse(args); err != nil {
		t.Fatalf("ExecStart args %q: %v", args, err)
	}
	if *shutdown != defaultShutdown {
		t.Errorf("ExecStart -shutdown %v; the program's default is %v", *shutdown, defaultShutdown)
	}
	// Main asks systemd for the budget and a second; systemd's own stop
	// timeout must not be shorter, or it kills a drain within the budget
	// before the extension is read.
	if stop := seconds(t, kv, "TimeoutStopSec"); stop < *shutdown+time.Second {
		t.Errorf("TimeoutStopSec=%v is less than the %v budget and the second Main asks beyond it", stop, *shutdown)
	}
	watchdog := seconds(t, kv, "WatchdogSec")
	if watchdog < time.Second {
		t.Errorf("WatchdogSec=%v: Main reads the tree every 100 ms and pings every half interval; give it at least 1s", watchdog)
	}

	// Run it as systemd would, with a small budget so the test is quick;
	// the watchdog interval is the unit's.
	const budget = 2 * time.Second
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RUN_EXAMPLE=1", "NOTIFY_SOCKET="+sock,
		"WATCHDOG_USEC="+strconv.FormatInt(watchdog.Microseconds(), 10),
		"EXAMPLE_ARGS=-addr 127.0.0.1:0 -shutdown "+budget.String())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }() // only matters if the test failed first
	read := func(want *regexp.Regexp) string {
		t.Helper()
		buf := make([]byte, 4096)
		for {
			if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("waiting for %v: %v", want, err)
			}
			if d := string(buf[:n]); want.MatchString(d) {
				return d
			}
		}
	}
	if got := read(regexp.MustCompile(`READY=1`)); got != "READY=1\nSTATUS=ready: 2 services" &&
		got != "READY=1\nSTATUS=ready: 2 services\nWATCHDOG=1" {
		t.Errorf("ready datagram %q", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	want := "STOPPING=1\nEXTEND_TIMEOUT_USEC=" + strconv.FormatInt((budget+time.Second).Microseconds(), 10) + "\nSTATUS=stopping"
	if got := read(regexp.MustCompile(`STOPPING=1`)); got != want {
		t.Errorf("at SIGTERM got %q; want %q", got, want)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("example exited with %v; want 0", err)
	}
}
