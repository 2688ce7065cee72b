package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// csvSample is benchstat -format csv output for two benchmarks of W4.
const csvSample = `goos: linux
cpu: Test CPU
,bench.txt,
,sec/cancel,CI
CancelLatency/raw-2,0.0002,3%
CancelLatency/shepherd-2,0.00026,5%
geomean,0.00022,

,bench.txt,
,raw-ratio,CI
CancelLatency/shepherd-2,1.25,2%
geomean,1.25,
`

func TestParseStripsProcsAndKeepsOrder(t *testing.T) {
	r, err := parse(strings.NewReader(csvSample))
	if err != nil {
		t.Fatal(err)
	}
	if r.cpu != "Test CPU" {
		t.Errorf("cpu = %q; want %q", r.cpu, "Test CPU")
	}
	if got, want := strings.Join(r.order, " "), "CancelLatency/raw CancelLatency/shepherd"; got != want {
		t.Errorf("order = %q; want %q", got, want)
	}
	s, ok := r.get("sec/cancel", "CancelLatency/shepherd")
	if !ok || s.median != 0.00026 || s.ci != "5%" {
		t.Errorf("get(sec/cancel, shepherd) = %+v, %v; want {0.00026 5%%}, true", s, ok)
	}
}

func TestRenderJudgesOnThePairedRatio(t *testing.T) {
	r, err := parse(strings.NewReader(csvSample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	render(&b, meta{nproc: "2"}, r)
	out := b.String()
	// The medians give 1.30×; the paired ratio, 1.25×, is what is judged.
	want := "| W4 cancel latency | shepherd ≤ 1.2× raw | 1.25× paired (1.30× of medians) | not met |"
	if !strings.Contains(out, want) {
		t.Errorf("render output lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "| W6 restart rate | shepherd ≥ 1.5× suture's restarts per second | — | not measured |") {
		t.Errorf("render output does not mark W6 as not measured:\n%s", out)
	}
}

func TestParseRejectsEmptyInput(t *testing.T) {
	if _, err := parse(strings.NewReader("goos: linux\n")); err == nil {
		t.Error("parse(no results) = nil error; want an error")
	}
}

// csvLimited is a W2c run: the target compares shepherd with errgroup
// through their paired ratios to raw.
const csvLimited = `cpu: Test CPU
,bench.txt,
,sec/task,CI
LimitedGroup/raw-2,0.000001,3%
LimitedGroup/shepherd-2,0.0000012,5%
LimitedGroup/errgroup-2,0.0000011,5%
geomean,0.0000011,

,bench.txt,
,raw-ratio,CI
LimitedGroup/shepherd-2,1.10,2%
LimitedGroup/errgroup-2,1.20,2%
geomean,1.15,
`

func TestRenderStatesBaselineAndJudgesAgainstPeer(t *testing.T) {
	r, err := parse(strings.NewReader(csvLimited))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	render(&b, meta{nproc: "2"}, r)
	out := b.String()
	for _, want := range []string{
		// 1.10 / 1.20 paired, although the medians say 1.09.
		"| W2c limited group | Group with Limit no slower than errgroup with SetLimit | 0.92× paired (1.09× of medians) | met |",
		"Baseline: raw is a sync.WaitGroup with a buffered channel of 8 slots as the semaphore",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("render output lacks %q:\n%s", want, out)
		}
	}
}

// W2b pairs shepherd-map with raw-map, not raw: its raw-ratio is already
// the ratio to raw-map.
func TestRenderJudgesMapAgainstRawMap(t *testing.T) {
	const csv = `cpu: Test CPU
,bench.txt,
,sec/task,CI
ForEach/raw-2,0.00000001,3%
ForEach/raw-map-2,0.00000002,3%
ForEach/shepherd-map-2,0.000000024,5%
geomean,0.00000002,

,bench.txt,
,raw-ratio,CI
ForEach/shepherd-map-2,1.10,2%
geomean,1.10,
`
	r, err := parse(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	render(&b, meta{nproc: "2"}, r)
	want := "| W2b index batch | Map ≤ 1.15× the atomic-index loop storing results | 1.10× paired (1.20× of medians) | met |"
	if !strings.Contains(b.String(), want) {
		t.Errorf("render output lacks %q:\n%s", want, b.String())
	}
}
