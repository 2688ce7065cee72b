// Package nakedgo defines an analyzer that reports go statements.
//
// A go statement starts a goroutine that nothing owns: no caller waits for
// it, no context is guaranteed to stop it, and its panic kills the process.
// nakedgo finds each one so that it can be given an owner — a shepherd
// Group.Go for a batch of tasks, a Supervisor service for a long-running
// loop, or a Pool for a stream of work items — or be marked, with a reason,
// as a goroutine that needs none.
//
// Beside that blanket report, nakedgo recognises one leak precisely: the
// forgotten sender (see [Doc]). That one has a mechanical fix, which nakedgo
// offers as a suggested fix; a plain go statement has none, because choosing
// its owner, and where that owner is waited for, is a design decision the
// analyzer cannot see.
package nakedgo

import (
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Doc is the analyzer's documentation, as printed by "nakedgo -help".
const Doc = `report go statements that start goroutines with no owner

A go statement starts a goroutine that nothing waits for, nothing is sure to
cancel and whose panic kills the process. nakedgo reports each one so it can
be replaced by a shepherd Group.Go (a batch of tasks), a Supervisor service
(a long-running loop) or a Pool (a stream of work items).

It also reports the forgotten sender: a goroutine started from a function
literal that sends once on an unbuffered channel made in the same function,
whose every receive is a select case beside another case (ctx.Done(),
time.After, default ...). When the receiver takes the other case it leaves,
and the send blocks forever. The suggested fix gives the channel a buffer
of 1, so the single send always completes.

A go statement that needs no owner is kept with a directive on its own line
or on the line directly above it:

	//nakedgo:ok <reason>

The directive silences every report about the go statements it covers. The
reason is required: a directive without one is reported and silences
nothing, as is a directive that covers no go statement.

Packages whose import path is under one of the -exempt prefixes are not
checked (by default the shepherd module itself, which must start goroutines
to own them), and neither are generated files. With -tests=false, files
named *_test.go are not checked either; this works under go vet, where the
standalone driver's -test=false has no effect.`

// ShepherdPath is the import path of the shepherd module: the default
// -exempt prefix, because the library is where owned goroutines are started.
const ShepherdPath = "github.com/shepherd-go/shepherd"

// Analyzer reports go statements, forgotten senders and misused
// //nakedgo:ok directives. It has two flags. -exempt is a comma-separated
// list of import path prefixes whose packages it leaves alone; a prefix
// matches the package with that path and every package below it. -tests
// (default true) set to false skips files named *_test.go.
//
// -tests exists because the usual way to leave tests out, the standalone
// driver's -test=false, does not reach the analyzer under go vet: there
// the go command chooses the files, always includes the tests, and accepts
// but ignores -test=false. -tests filters inside the analyzer, so it works
// under every driver.
var Analyzer = newAnalyzer()

// The flags' values live in this closure rather than in package variables,
// so they can only be set the way a driver sets them: through
// Analyzer.Flags.
func newAnalyzer() *analysis.Analyzer {
	a := &analysis.Analyzer{
		Name:     "nakedgo",
		Doc:      Doc,
		URL:      "https://pkg.go.dev/github.com/shepherd-go/shepherd/cmd/nakedgo/nakedgo",
		Requires: []*analysis.Analyzer{inspect.Analyzer},
	}
	exempt := a.Flags.String("exempt", ShepherdPath,
		"comma-separated import path prefixes whose packages are not checked")
	tests := a.Flags.Bool("tests", true,
		"check _test.go files; unlike the standalone driver's -test, -tests=false also works under go vet")
	a.Run = func(pass *analysis.Pass) (any, error) {
		if isExempt(pass.Pkg.Path(), *exempt) {
			return nil, nil
		}
		in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
		for file := range in.Root().Children() {
			if !*tests && isTestFile(pass.Fset, file.Node()) {
				continue
			}
			checkFile(pass, file)
		}
		return nil, nil
	}
	return a
}

// noOwner is the report for every go statement not covered by a directive.
// It is a constant so that users can grep their logs for it.
const noOwner = "go statement starts a goroutine with no owner: " +
	"nothing waits for it, cancels it or sees its panic; " +
	"use shepherd Group.Go, a Supervisor service, or a Pool"

func checkFile(pass *analysis.Pass, file inspector.Cursor) {
	// Generated code is reported to nobody who can change it.
	if ast.IsGenerated(file.Node().(*ast.File)) {
		return
	}
	var stmts []inspector.Cursor
	goLines := make(map[int]bool)
	for c := range file.Preorder((*ast.GoStmt)(nil)) {
		stmts = append(stmts, c)
		goLines[lineOf(pass.Fset, c.Node().Pos())] = true
	}
	dirs := readDirectives(pass.Fset, file.Node().(*ast.File))
	dirs.aim(func(line int) bool { return goLines[line] })
	for _, c := range stmts {
		stmt := c.Node().(*ast.GoStmt)
		if dirs.cover(lineOf(pass.Fset, stmt.Pos())) {
			continue
		}
		pass.Report(analysis.Diagnostic{
			Pos:     stmt.Pos(),
			End:     stmt.End(),
			Message: noOwner,
		})
		if lit, ok := ast.Unparen(stmt.Call.Fun).(*ast.FuncLit); ok {
			checkForgottenSender(pass, c, lit)
		}
	}
	dirs.reportMisuse(pass)
}

// isExempt reports whether path is, or is under, one of the comma-separated
// prefixes. An external test package ("p_test") belongs with p, and a
// driver may decorate a test variant's path as "p [p.test]"; both are
// reduced to p first, so that the exemption covers a package's tests too.
func isExempt(path, prefixes string) bool {
	path, _, _ = strings.Cut(path, " ")
	path = strings.TrimSuffix(path, "_test")
	for p := range strings.SplitSeq(prefixes, ",") {
		p = strings.TrimSuffix(strings.TrimSpace(p), "/")
		if p == "" {
			continue
		}
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// isTestFile goes by the file's real name, which //line directives do not
// change.
func isTestFile(fset *token.FileSet, file ast.Node) bool {
	return strings.HasSuffix(fset.File(file.Pos()).Name(), "_test.go")
}

// lineOf ignores //line directives: a directive is tied to the go statement
// by where both physically sit in the file, not where they claim to be.
func lineOf(fset *token.FileSet, pos token.Pos) int {
	return fset.PositionFor(pos, false).Line
}
