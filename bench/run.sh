#!/usr/bin/env bash
# Runs the benchmark suite of shepherd and its peers.
#
#   bench/run.sh          full run: every benchmark COUNT times (default 10),
#                         summarized by benchstat into bench/RESULTS.md, with
#                         the raw output in bench/results.txt
#   bench/run.sh -short   one iteration of every benchmark, so that CI
#                         notices a broken benchmark; writes nothing
#
# Environment: COUNT (samples, at least 6), BENCHTIME (-benchtime, default
# 1s), BENCH (a -bench pattern, default every benchmark).
#
# The samples of a full run are taken in rounds, each round running every
# benchmark once, so that a slow spell of a shared machine hits every
# library alike instead of all the samples of one.
set -euo pipefail
cd "$(dirname "$0")"

BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
export PATH="$(go env GOPATH)/bin:$PATH"

mode=full
case "${1:-}" in
"") ;;
-short) mode=short ;;
*)
	echo "usage: $0 [-short]" >&2
	exit 2
	;;
esac

bench=${BENCH:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/bench.test" .

if [ "$mode" = short ]; then
	"$tmp/bench.test" -test.run='^$' -test.bench="$bench" -test.benchtime=1x -test.benchmem -test.timeout=10m
	echo "bench: short run passed"
	exit 0
fi

count=${COUNT:-10}
benchtime=${BENCHTIME:-1s}
if [ "$count" -lt 6 ]; then
	echo "COUNT=$count: benchstat needs at least 6 samples for a confidence interval" >&2
	exit 2
fi
go install "$BENCHSTAT"

out="$tmp/results.txt"
: >"$out"
for i in $(seq "$count"); do
	echo "== round $i of $count" >&2
	"$tmp/bench.test" -test.run='^$' -test.bench="$bench" -test.benchtime="$benchtime" \
		-test.benchmem -test.timeout=0 | tee -a "$out" >&2
done

benchstat -format csv "$out" >"$tmp/stat.csv" 2>"$tmp/stat.err"
peers=$(go list -m -f '{{.Path}} {{.Version}}' golang.org/x/sync github.com/sourcegraph/conc \
	github.com/panjf2000/ants/v2 github.com/alitto/pond/v2 github.com/oklog/run github.com/thejerf/suture/v4)
go run ./cmd/results -in "$tmp/stat.csv" -nproc "$(nproc)" -go "$(go env GOVERSION)" \
	-date "$(date -u '+%Y-%m-%d %H:%M UTC')" -count "$count" -benchtime "$benchtime" \
	-peers "$peers" >"$tmp/RESULTS.md"
mv "$tmp/RESULTS.md" RESULTS.md
cp "$out" results.txt
benchstat "$out"
echo "bench: wrote bench/RESULTS.md and bench/results.txt"
