// Command results turns benchstat's CSV summary of the suite into
// RESULTS.md: a table per workload with each library's median, benchstat's
// confidence interval, and the ratio of the median to that of raw, the
// plain-goroutine baseline measured in the same run.
//
// Usage:
//
//	benchstat -format csv bench.txt | results -nproc 2 -go go1.26 -date 2026-01-02 > RESULTS.md
//
// Nothing in RESULTS.md is typed in by hand: every figure comes from the
// CSV, and every verdict compares a figure with the target in this file.
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	var meta meta
	flag.StringVar(&meta.nproc, "nproc", "?", "number of CPUs of the machine (nproc)")
	flag.StringVar(&meta.goVersion, "go", "?", "Go version the suite ran with")
	flag.StringVar(&meta.date, "date", "?", "date of the run")
	flag.StringVar(&meta.count, "count", "?", "samples per benchmark")
	flag.StringVar(&meta.benchtime, "benchtime", "?", "-benchtime of the run")
	flag.StringVar(&meta.peers, "peers", "", "versions of the peers, one \"module version\" per line")
	in := flag.String("in", "-", "benchstat CSV output to read (- for standard input)")
	flag.Parse()

	r := io.Reader(os.Stdin)
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		r = f
	}
	res, err := parse(r)
	if err != nil {
		fatal(err)
	}
	w := bufio.NewWriter(os.Stdout)
	render(w, meta, res)
	if err := w.Flush(); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "results:", err)
	os.Exit(1)
}

type meta struct {
	nproc, goVersion, date, count, benchtime, peers string
}

// A stat is benchstat's summary of one benchmark in one unit.
type stat struct {
	median float64
	ci     string // such as "3%", or "∞" with too few samples
}

// results holds every stat by unit, then by benchmark name without the
// GOMAXPROCS suffix, such as "SpawnWait/shepherd".
type results struct {
	cpu   string
	units map[string]map[string]stat
	order []string // benchmark names in the order of the input
}

func (r *results) get(unit, name string) (stat, bool) {
	s, ok := r.units[unit][name]
	return s, ok
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchstat -format csv output: a few "key: value" lines, then
// one block per unit, each made of a row naming the input file, a row
// ",unit,CI", a row per benchmark and a geomean row.
func parse(r io.Reader) (*results, error) {
	res := &results{units: map[string]map[string]stat{}}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var unit string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch {
		case len(rec) == 1:
			if v, ok := strings.CutPrefix(rec[0], "cpu: "); ok {
				res.cpu = v
			}
		case len(rec) >= 3 && rec[0] == "" && rec[2] == "CI":
			unit = rec[1]
			if res.units[unit] == nil {
				res.units[unit] = map[string]stat{}
			}
		case len(rec) >= 3 && rec[0] != "" && rec[0] != "geomean" && unit != "":
			var v float64
			if _, err := fmt.Sscan(rec[1], &v); err != nil {
				return nil, fmt.Errorf("%s in %s: %v", rec[0], unit, err)
			}
			name := procsSuffix.ReplaceAllString(rec[0], "")
			if !slices.Contains(res.order, name) {
				res.order = append(res.order, name)
			}
			res.units[unit][name] = stat{median: v, ci: rec[2]}
		}
	}
	if len(res.units) == 0 {
		return nil, errors.New("no benchmark results in the input")
	}
	return res, nil
}
