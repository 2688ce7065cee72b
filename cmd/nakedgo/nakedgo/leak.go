package nakedgo

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/edge"
	"golang.org/x/tools/go/ast/inspector"
)

// The forgotten sender, in the shape this file recognises:
//
//	ch := make(chan result)           // unbuffered, local to f
//	go func() { ch <- search(term) }() // exactly one send, not in a loop
//	select {
//	case <-ctx.Done():                 // the receiver can leave here ...
//		return ctx.Err()
//	case r := <-ch:
//		...
//	}                                  // ... and the send blocks forever
//
// The check is built to be precise rather than complete: it reports only
// when it can see every use of the channel, and gives up on anything it
// cannot reason about cheaply — the channel passed to a function or
// stored, received outside a select or in a select inside a loop, sent on
// twice or in a loop, or sent on from a select of the sender's own. In the
// shape it does report, a buffer of 1 is a complete fix: the one send
// always has room, so the goroutine finishes whether or not anyone is still
// listening, and the channel is garbage once both sides are gone.

// leakShape is what the check learns about one channel in one function.
type leakShape struct {
	make  *ast.CallExpr     // the only value ever assigned to the channel
	send  *ast.SendStmt     // the only send
	recvs []*ast.SelectStmt // every select that receives from it
	exit  *ast.CommClause   // a case of recvs[0] that leaves without the value
}

// checkForgottenSender reports each channel that the goroutine started by
// goStmt (whose function is lit) can be forgotten on.
func checkForgottenSender(pass *analysis.Pass, goStmt inspector.Cursor, lit *ast.FuncLit) {
	fn, body, ok := enclosingFunc(goStmt)
	if !ok {
		return
	}
	litCur, ok := goStmt.FindNode(lit)
	if !ok {
		return
	}
	seen := make(map[*types.Var]bool)
	for c := range litCur.Preorder((*ast.SendStmt)(nil)) {
		id, ok := ast.Unparen(c.Node().(*ast.SendStmt).Chan).(*ast.Ident)
		if !ok {
			continue
		}
		v, ok := pass.TypesInfo.Uses[id].(*types.Var)
		if !ok || seen[v] {
			continue
		}
		seen[v] = true
		// The goroutine can only see variables of its own body, of fn, or
		// of outer scopes. Only fn's locals have all their uses in view;
		// parameters start outside fn's body and are excluded with them.
		// A go statement under a loop (one not around the channel's
		// declaration) starts many senders, which one slot cannot hold.
		if !within(v.Pos(), body) || within(v.Pos(), lit) || repeats(goStmt, fn, v.Pos()) {
			continue
		}
		shape, ok := shapeOf(pass, fn, litCur, v)
		if !ok {
			continue
		}
		reportForgottenSender(pass, v, shape)
	}
}

// shapeOf classifies every mention of v in fn and reports whether together
// they form the forgotten sender.
func shapeOf(pass *analysis.Pass, fn, lit inspector.Cursor, v *types.Var) (leakShape, bool) {
	var (
		s       leakShape
		sources []ast.Expr // every value v is given; "var ch chan T" gives none
		sends   int
	)
	for c := range fn.Preorder((*ast.Ident)(nil)) {
		if pass.TypesInfo.ObjectOf(c.Node().(*ast.Ident)) != v {
			continue
		}
		kind, index := c.ParentEdge()
		parent := c.Parent()
		switch kind {
		case edge.ValueSpec_Names:
			spec := parent.Node().(*ast.ValueSpec)
			switch len(spec.Values) {
			case 0:
				// var ch chan T: the value comes from a later assignment.
			case len(spec.Names):
				sources = append(sources, spec.Values[index])
			default:
				return s, false // var a, ch = twoValues()
			}

		case edge.AssignStmt_Lhs:
			assign := parent.Node().(*ast.AssignStmt)
			if len(assign.Lhs) != len(assign.Rhs) {
				return s, false
			}
			sources = append(sources, assign.Rhs[index])

		case edge.SendStmt_Chan:
			send, ok := plainSend(parent, lit)
			if !ok {
				return s, false
			}
			s.send = send
			sends++

		case edge.UnaryExpr_X:
			sel, ok := selectReceive(parent, lit, fn, v.Pos())
			if !ok {
				return s, false
			}
			s.recvs = append(s.recvs, sel)

		case edge.CallExpr_Args:
			// Closing the channel in the sender is harmless to the
			// analysis; anything else done with it elsewhere may drain it.
			if !isBuiltinCall(pass, parent.Node().(*ast.CallExpr), "close") || !lit.Contains(c) {
				return s, false
			}

		default:
			return s, false
		}
	}
	if sends != 1 || len(s.recvs) == 0 || len(sources) != 1 {
		return s, false
	}
	call, ok := ast.Unparen(sources[0]).(*ast.CallExpr)
	if !ok || !isUnbufferedMake(pass, call) {
		return s, false
	}
	s.make = call
	// Every receiving select needs a way out without the value; one whose
	// only case is the receive is just a blocking receive.
	for i := len(s.recvs) - 1; i >= 0; i-- {
		if s.exit = otherCase(pass, s.recvs[i], v); s.exit == nil {
			return s, false
		}
	}
	return s, true
}

// plainSend accepts a send statement that runs at most once per run of the
// goroutine: directly in lit, not under a loop, a nested function or a go
// statement, and not a select case (a sender that selects has its own way
// out, so it is not forgotten).
func plainSend(stmt, lit inspector.Cursor) (*ast.SendStmt, bool) {
	if !lit.Contains(stmt) || stmt.ParentEdgeKind() == edge.CommClause_Comm {
		return nil, false
	}
	if repeats(stmt, lit, token.NoPos) {
		return nil, false
	}
	return stmt.Node().(*ast.SendStmt), true
}

// selectReceive accepts a receive <-ch that is the comm of a select case
// (as "case <-ch:" or "case x := <-ch:") in fn's own body, outside the
// goroutine, and not under a loop (around the channel's declaration decl
// is fine), which could come back to receive again.
func selectReceive(unary, lit, fn inspector.Cursor, decl token.Pos) (*ast.SelectStmt, bool) {
	if unary.Node().(*ast.UnaryExpr).Op != token.ARROW || lit.Contains(unary) {
		return nil, false
	}
	stmt := unary.Parent()
	switch unary.ParentEdgeKind() {
	case edge.ExprStmt_X, edge.AssignStmt_Rhs:
	default:
		return nil, false
	}
	if stmt.ParentEdgeKind() != edge.CommClause_Comm {
		return nil, false
	}
	sel := stmt.Parent().Parent().Parent() // CommClause, BlockStmt, SelectStmt
	if repeats(sel, fn, decl) {
		return nil, false
	}
	return sel.Node().(*ast.SelectStmt), true
}

// repeats reports whether the code at c may run more than once per run of
// top, or at a time of someone else's choosing: whether a function literal
// or go statement lies between c and its ancestor top, or a loop that does
// not also contain decl. A loop around decl is harmless, because each
// iteration makes a fresh channel; with decl = token.NoPos every loop counts.
func repeats(c, top inspector.Cursor, decl token.Pos) bool {
	for p := c.Parent(); p != top; p = p.Parent() {
		switch n := p.Node().(type) {
		case *ast.FuncLit, *ast.GoStmt:
			return true
		case *ast.ForStmt, *ast.RangeStmt:
			if !within(decl, n) {
				return true
			}
		}
	}
	return false
}

// isUnbufferedMake reports whether call is make(chan T) or make(chan T, 0).
func isUnbufferedMake(pass *analysis.Pass, call *ast.CallExpr) bool {
	if !isBuiltinCall(pass, call, "make") {
		return false
	}
	t := pass.TypesInfo.TypeOf(call)
	if t == nil {
		return false
	}
	if _, ok := t.Underlying().(*types.Chan); !ok {
		return false // make(C) for a type parameter C is left alone
	}
	switch len(call.Args) {
	case 1:
		return true
	case 2:
		size := pass.TypesInfo.Types[call.Args[1]].Value
		return size != nil && size.Kind() == constant.Int && constant.Sign(size) == 0
	}
	return false
}

func isBuiltinCall(pass *analysis.Pass, call *ast.CallExpr, name string) bool {
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return false
	}
	b, ok := pass.TypesInfo.Uses[id].(*types.Builtin)
	return ok && b.Name() == name
}

// otherCase returns the first case of sel that does not mention v — the
// way the receiver leaves without the value — or nil if there is none.
func otherCase(pass *analysis.Pass, sel *ast.SelectStmt, v *types.Var) *ast.CommClause {
	for _, stmt := range sel.Body.List {
		clause := stmt.(*ast.CommClause)
		if !mentions(pass, clause.Comm, v) {
			return clause
		}
	}
	return nil
}

func mentions(pass *analysis.Pass, n ast.Node, v *types.Var) bool {
	if n == nil {
		return false
	}
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && pass.TypesInfo.ObjectOf(id) == v {
			found = true
		}
		return !found
	})
	return found
}

func reportForgottenSender(pass *analysis.Pass, v *types.Var, s leakShape) {
	// make(chan T) gains a size; make(chan T, 0) has its size replaced.
	edit := analysis.TextEdit{Pos: s.make.Args[0].End(), End: s.make.Args[0].End(), NewText: []byte(", 1")}
	if len(s.make.Args) == 2 {
		edit = analysis.TextEdit{Pos: s.make.Args[1].Pos(), End: s.make.Args[1].End(), NewText: []byte("1")}
	}
	pass.Report(analysis.Diagnostic{
		Pos: s.send.Pos(),
		End: s.send.End(),
		Message: fmt.Sprintf("forgotten sender: this send on unbuffered channel %s blocks forever "+
			"once the select receiving from it takes another case; "+
			"give the channel a buffer of 1 or use a shepherd Group", v.Name()),
		SuggestedFixes: []analysis.SuggestedFix{{
			Message:   fmt.Sprintf("Give %s a buffer of 1", v.Name()),
			TextEdits: []analysis.TextEdit{edit},
		}},
		Related: []analysis.RelatedInformation{
			{Pos: s.make.Pos(), End: s.make.End(), Message: "channel made without a buffer here"},
			{Pos: s.exit.Pos(), Message: "the receiver can leave through this case"},
		},
	})
}

// enclosingFunc returns the innermost function around c and its body.
func enclosingFunc(c inspector.Cursor) (inspector.Cursor, *ast.BlockStmt, bool) {
	for f := range c.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		switch n := f.Node().(type) {
		case *ast.FuncDecl:
			return f, n.Body, n.Body != nil
		case *ast.FuncLit:
			return f, n.Body, true
		}
	}
	return inspector.Cursor{}, nil, false
}

func within(pos token.Pos, n ast.Node) bool {
	return n.Pos() <= pos && pos < n.End()
}
