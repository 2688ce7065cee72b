package shepherd_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

// notifySocket stands in for systemd's: a unixgram socket whose name the
// test puts in NOTIFY_SOCKET. next returns the next datagram that says
// more than WATCHDOG=1, without its WATCHDOG=1 line, and counts the pings.
type notifySocket struct {
	t     *testing.T
	conn  *net.UnixConn
	pings int
}

func listenNotify(t *testing.T, name string) *notifySocket {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	t.Setenv("NOTIFY_SOCKET", name)
	t.Setenv("WATCHDOG_USEC", "")
	t.Setenv("WATCHDOG_PID", "")
	return &notifySocket{t: t, conn: conn}
}

func (s *notifySocket) next() string {
	s.t.Helper()
	return s.read(func() bool { return false })
}

// awaitPings reads until n pings came, failing on any other datagram.
func (s *notifySocket) awaitPings(n int) {
	s.t.Helper()
	if d := s.read(func() bool { return s.pings >= n }); d != "" {
		s.t.Fatalf("got %q while nothing changed", d)
	}
}

// read returns the next datagram that says more than WATCHDOG=1, or ""
// once enough says so.
func (s *notifySocket) read(enough func() bool) string {
	buf := make([]byte, 4096)
	for !enough() {
		if err := s.conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			s.t.Fatal(err)
		}
		n, err := s.conn.Read(buf)
		if err != nil {
			s.t.Fatalf("no datagram from Main: %v", err)
		}
		var lines []string
		for _, l := range strings.Split(string(buf[:n]), "\n") {
			if l == "WATCHDOG=1" {
				s.pings++
			} else {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			return strings.Join(lines, "\n")
		}
	}
	return ""
}

// until returns the datagrams up to and including the first that
// contains want.
func (s *notifySocket) until(want string) []string {
	s.t.Helper()
	var got []string
	for {
		d := s.next()
		got = append(got, d)
		if strings.Contains(d, want) {
			return got
		}
	}
}

func TestMainNotifiesSystemd(t *testing.T) {
	sock := listenNotify(t, filepath.Join(t.TempDir(), "notify"))
	t.Setenv("WATCHDOG_USEC", "100000") // a ping every 50 ms
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) }) // a failed test leaves nothing blocked
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(3*time.Second))
	sup.Add("db", shepherd.ServiceFunc(func(ctx context.Context) error {
		<-release
		shepherd.Ready(ctx)
		<-ctx.Done()
		return nil
	}), shepherd.AwaitReady(30*time.Second))
	code := make(chan int, 1)
	go func() {
		code <- shepherd.MainWith(sup, shepherd.Signals(syscall.SIGUSR1), shepherd.MainLogger(discard))
	}()

	for _, d := range sock.until("STATUS=not ready: app/db starting") {
		if strings.Contains(d, "READY=1") {
			t.Fatalf("got %q before the service was ready", d)
		}
	}
	// The tree is live while the service starts: systemd hears pings.
	sock.awaitPings(sock.pings + 2)
	once.Do(func() { close(release) })
	if got, want := sock.next(), "READY=1\nSTATUS=ready: 1 service"; got != want {
		t.Fatalf("once every service is ready, got %q; want %q", got, want)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	// The budget is 3 s: systemd is asked to wait that and a second.
	if got, want := sock.next(), "STOPPING=1\nEXTEND_TIMEOUT_USEC=4000000\nSTATUS=stopping"; got != want {
		t.Fatalf("at the signal, got %q; want %q", got, want)
	}
	if c := <-code; c != shepherd.ExitOK {
		t.Fatalf("Main = %d; want %d", c, shepherd.ExitOK)
	}
}

// TestMainNotifiesAbstractSocket: NOTIFY_SOCKET may name a Linux abstract
// socket with a leading "@".
func TestMainNotifiesAbstractSocket(t *testing.T) {
	sock := listenNotify(t, fmt.Sprintf("@shepherd-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(2*time.Second))
	sup.Add("loop", shepherd.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }))
	code := make(chan int, 1)
	go func() {
		code <- shepherd.MainWith(sup, shepherd.Signals(syscall.SIGUSR1), shepherd.MainLogger(discard))
	}()
	got := sock.until("READY=1")
	if last, want := got[len(got)-1], "READY=1\nSTATUS=ready: 1 service"; last != want {
		t.Fatalf("got %q; want %q", got, want)
	}
	if sock.pings != 0 {
		t.Errorf("%d watchdog pings without WATCHDOG_USEC", sock.pings)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if got, want := sock.next(), "STOPPING=1\nEXTEND_TIMEOUT_USEC=3000000\nSTATUS=stopping"; got != want {
		t.Fatalf("at the signal, got %q; want %q", got, want)
	}
	if c := <-code; c != shepherd.ExitOK {
		t.Fatalf("Main = %d; want %d", c, shepherd.ExitOK)
	}
}

// TestMainNotifiesFailure: a tree that stops on its own failure tells
// systemd it is stopping too, before Main returns.
func TestMainNotifiesFailure(t *testing.T) {
	sock := listenNotify(t, filepath.Join(t.TempDir(), "notify"))
	fail := make(chan struct{})
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(2*time.Second))
	sup.Add("job", shepherd.ServiceFunc(func(ctx context.Context) error {
		<-fail
		return fmt.Errorf("disk full")
	}))
	code := make(chan int, 1)
	go func() { code <- shepherd.MainWith(sup, shepherd.MainLogger(discard)) }()
	sock.until("READY=1")
	close(fail)
	if c := <-code; c != shepherd.ExitFailure {
		t.Fatalf("Main = %d; want %d", c, shepherd.ExitFailure)
	}
	// The stop may be seen while it runs (STATUS=stopping) or only once
	// Run returned; either way STOPPING=1 comes first and the last status
	// says the tree failed.
	got := sock.until("STATUS=not live: app failed")
	if !strings.HasPrefix(got[0], "STOPPING=1\nEXTEND_TIMEOUT_USEC=3000000\nSTATUS=") || len(got) > 2 {
		t.Fatalf("after the failure got %q; want STOPPING=1 and the budget first, then the failed status", got)
	}
}
