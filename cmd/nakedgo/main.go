// Command nakedgo reports go statements that start goroutines with no owner,
// and the "forgotten sender" leak, so they can be replaced by a shepherd
// Group, Supervisor service or Pool.
//
// Run it over packages directly:
//
//	nakedgo ./...
//	nakedgo -test=false ./...   // leave _test.go files out
//	nakedgo -fix ./...          // apply the suggested fixes
//
// or as a vet tool, alongside nothing else:
//
//	go vet -vettool=$(which nakedgo) ./...
//
// See the nakedgo package for what is reported and why.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/shepherd-go/shepherd/cmd/nakedgo/nakedgo"
)

func main() { singlechecker.Main(nakedgo.Analyzer) }
