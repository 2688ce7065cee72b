package shepherd_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shepherd-go/shepherd"
)

func TestStuckServiceSaidOnce(t *testing.T) {
	// A server whose handler hangs: its Run returns when it is closed,
	// its Stop runs out of time, and the handler is still there at the
	// end of the budget. It is stuck, said once: one stuck event and no
	// stopped event, one *StuckError and no "stop: context deadline
	// exceeded" beside it.
	release := make(chan struct{})
	entered := make(chan struct{})
	var once sync.Once
	api := shepherd.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		once.Do(func() { close(entered) })
		<-release
	})})
	var mu sync.Mutex
	var kinds []shepherd.State
	sup := shepherd.NewSupervisor("app", shepherd.ShutdownTimeout(500*time.Millisecond), shepherd.OnEvent(func(e shepherd.Event) {
		if e.Path == "app/api" {
			mu.Lock()
			kinds = append(kinds, e.State)
			mu.Unlock()
		}
	}))
	sup.Add("api", api)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- sup.Run(ctx) }()
	eventually(t, func() bool { return api.Addr() != nil })
	go func() {
		resp, err := http.Get("http://" + api.Addr().String() + "/")
		if err == nil {
			_ = resp.Body.Close() // the answer does not matter, and may come after the test
		}
	}()
	<-entered
	cancel()
	err := <-errc
	close(release)
	var se *shepherd.StuckError
	if !errors.As(err, &se) || len(se.Tasks) != 1 || se.Tasks[0].Path != "app/api" {
		t.Fatalf("Run() = %v; want app/api stuck", err)
	}
	if strings.Contains(err.Error(), "stop: context deadline exceeded") {
		t.Errorf("Run() = %v; want app/api reported once, as stuck", err)
	}
	mu.Lock()
	defer mu.Unlock()
	stuck, stopped := 0, 0
	for _, k := range kinds {
		switch k {
		case shepherd.StateStuck:
			stuck++
		case shepherd.StateStopped:
			stopped++
		}
	}
	if stuck != 1 || stopped != 0 {
		t.Errorf("events for app/api = %v; want one stuck and no stopped", kinds)
	}
}
