package shepherd_test

import (
	"context"
	"testing"

	"github.com/shepherd-go/shepherd"
)

// TestPoolMisuse pins the answer to each misuse of a Pool that used to end
// in a runtime error or be accepted: a panic that starts "shepherd:",
// names the pool and says what to do instead.
func TestPoolMisuse(t *testing.T) {
	ok := func(ctx context.Context, x int) error { return nil }
	for _, tc := range []struct {
		name string
		do   func() error
		want string
	}{
		{"Stop(nil)", func() error {
			p := shepherd.NewPool("reports", 1, ok)
			return p.Stop(nilCtx)
		}, `panic: shepherd: pool "reports": Stop(nil): pass a context; its deadline bounds the drain, after which the queue is handed back`},
		{"Run(nil)", func() error {
			p := shepherd.NewPool("reports", 1, ok)
			return p.Run(nilCtx)
		}, `panic: shepherd: pool "reports": Run(nil): pass a context; when it is done the pool stops and hands its queue back`},
		{"QueueSize(1<<50)", func() error { shepherd.NewPool("reports", 1, ok, shepherd.QueueSize(1<<50)); return nil },
			`panic: shepherd: NewPool("reports"): QueueSize(1125899906842624) would allocate 32 bytes per item at once, more than 1 GiB; ` +
				`size the queue so that a full one drains within the shutdown budget`},
		{"nil PoolOption", func() error { shepherd.NewPool("reports", 1, ok, nil); return nil },
			`panic: shepherd: NewPool("reports"): a nil PoolOption; pass QueueSize or StopOnError, or leave it out`},
		{"name with a slash", func() error { shepherd.NewPool("a/b", 1, ok); return nil },
			`panic: shepherd: NewPool("a/b"): a name must not contain "/", which separates the names in a path; ` +
				`name the pool after its work, like "reports", and let the tree it runs in give it its path`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := outcome(tc.do); got != tc.want {
				t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
			}
		})
	}
	// The largest queue allowed is made: the bound is not off by one.
	big := shepherd.NewPool("big", 1, ok, shepherd.QueueSize(1<<30/32))
	big.Close()
	if err := big.Run(context.Background()); err != nil {
		t.Fatalf("Run() = %v", err)
	}
}
