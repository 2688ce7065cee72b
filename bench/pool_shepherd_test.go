package bench

import (
	"context"
	"testing"

	"github.com/shepherd-go/shepherd"
)

func init() {
	extraFeeders = append(extraFeeders, feeder{"shepherd", func(b *testing.B, n, workers int, handle func(int)) func() {
		fn := func(_ context.Context, it int) error { handle(it); return nil }
		return func() {
			ctx := context.Background()
			p := shepherd.NewPool("items", workers, fn)
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			for i := range n {
				if err := p.Submit(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
			p.Close()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	}})
}
