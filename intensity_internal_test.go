package shepherd

import (
	"testing"
	"time"
)

func TestIntensityMemoryIsBounded(t *testing.T) {
	// MaxRestarts(1<<40, time.Hour): a million restarts within the hour
	// keep no time each; the window's state has a fixed size.
	in := intensity{max: 1 << 40, period: time.Hour}
	now := time.Now()
	for range 1_000_000 {
		if !in.allow(now) {
			t.Fatal("allow() = false far below the limit")
		}
		now = now.Add(time.Microsecond)
	}
	if c := cap(in.times); c != 0 {
		t.Fatalf("the window keeps %d restart times; want none past the exact limit", c)
	}
}

func TestIntensityBucketedLimit(t *testing.T) {
	// Past the exact limit, the limit still holds within a window and is
	// lifted once the window has passed.
	const n = 5000
	in := intensity{max: n, period: time.Second}
	start := time.Now()
	for i := range n {
		if !in.allow(start.Add(time.Duration(i) * time.Microsecond)) {
			t.Fatalf("restart %d refused; want %d allowed per second", i+1, n)
		}
	}
	if in.allow(start.Add(500 * time.Millisecond)) {
		t.Fatalf("restart %d within the second allowed; want refused", n+1)
	}
	// A window and one slice later, the early restarts have left it.
	if !in.allow(start.Add(time.Second + time.Second/intensityBuckets)) {
		t.Fatal("restart a window later refused; want allowed")
	}
}

func TestIntensityExactLimit(t *testing.T) {
	// Up to the exact limit the window is OTP's: more than max restarts
	// within any period refuse the next.
	in := intensity{max: 3, period: time.Second}
	t0 := time.Now()
	for i, tc := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {100 * time.Millisecond, true}, {200 * time.Millisecond, true}, {900 * time.Millisecond, false},
		{1000 * time.Millisecond, true}, {1050 * time.Millisecond, false}, {1100 * time.Millisecond, true}} {
		if got := in.allow(t0.Add(tc.at)); got != tc.want {
			t.Fatalf("step %d: allow(+%v) = %v; want %v", i, tc.at, got, tc.want)
		}
	}
}
