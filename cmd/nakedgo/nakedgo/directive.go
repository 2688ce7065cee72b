package nakedgo

import (
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// directivePrefix opens an opt-out. Like //go: and //lint: directives it has
// no space after the slashes; "// nakedgo:ok" is an ordinary comment.
const directivePrefix = "//nakedgo:ok"

// A directive is one //nakedgo:ok comment.
type directive struct {
	pos, end token.Pos
	line     int    // where the comment sits
	reason   string // text after the prefix, trimmed; empty means malformed
	target   int    // line whose go statements it covers; 0 until aimed
	used     bool
}

// directives are the opt-outs of one file.
type directives []*directive

// readDirectives finds the //nakedgo:ok comments in file. A comment that
// merely starts with the prefix ("//nakedgo:okay") is not one.
func readDirectives(fset *token.FileSet, file *ast.File) directives {
	var ds directives
	for _, group := range file.Comments {
		for _, c := range group.List {
			rest, ok := strings.CutPrefix(c.Text, directivePrefix)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
				continue
			}
			ds = append(ds, &directive{
				pos:    c.Pos(),
				end:    c.End(),
				line:   lineOf(fset, c.Pos()),
				reason: strings.TrimSpace(rest),
			})
		}
	}
	return ds
}

// aim decides which line each directive covers: its own, when a go
// statement starts there (the trailing form), otherwise the next one (the
// form written above the statement). Deciding by the directive's own line
// first means that in
//
//	go a() //nakedgo:ok reason
//	go b()
//
// the directive covers a only, and b is still reported.
func (ds directives) aim(hasGo func(line int) bool) {
	for _, d := range ds {
		if hasGo(d.line) {
			d.target = d.line
		} else {
			d.target = d.line + 1
		}
	}
}

// cover reports whether a well-formed directive covers the go statement on
// line, and marks it used. A directive without a reason covers nothing, so
// that an opt-out always carries its justification into code review.
func (ds directives) cover(line int) bool {
	covered := false
	for _, d := range ds {
		if d.target == line && d.reason != "" {
			d.used = true
			covered = true
		}
	}
	return covered
}

// reportMisuse reports directives that have no reason and well-formed ones
// that covered no go statement — usually left behind when the statement
// moved or was given an owner. Both would otherwise hide in the code as
// silent, misleading claims.
func (ds directives) reportMisuse(pass *analysis.Pass) {
	for _, d := range ds {
		var msg string
		switch {
		case d.reason == "":
			msg = "//nakedgo:ok needs a reason: write //nakedgo:ok <why this goroutine needs no owner>; without one it silences nothing"
		case !d.used:
			msg = "//nakedgo:ok covers no go statement: put it on the go statement's line or the line directly above, or delete it"
		default:
			continue
		}
		pass.Report(analysis.Diagnostic{Pos: d.pos, End: d.end, Message: msg})
	}
}
