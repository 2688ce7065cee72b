package shepherd_test

import (
	"context"
	"expvar"
	"fmt"

	"github.com/shepherd-go/shepherd"
)

// The live tree as an expvar: a Snapshot encodes itself as the debug
// page's JSON does, so /debug/vars serves it with one line.
func ExampleNode_MarshalJSON() {
	sup := shepherd.NewSupervisor("app")
	sup.Add("migrate", shepherd.ServiceFunc(func(ctx context.Context) error { return nil }))

	expvar.Publish("shepherd", expvar.Func(func() any { return sup.Snapshot() }))

	fmt.Println(expvar.Get("shepherd").String())
	// Output:
	// {"path":"app","kind":"supervisor","state":"idle","restarts":0,"children":[{"path":"app/migrate","kind":"service","state":"idle","restarts":0}]}
}
