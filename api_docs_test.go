package shepherd_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportedIdentifiersDocumented: every exported top-level identifier of
// the package, and every exported method, has a doc comment (for a const
// or var in a group, the group's comment or its own counts).
func TestExportedIdentifiersDocumented(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			for _, id := range undocumented(decl) {
				t.Errorf("%s: %s has no doc comment", fset.Position(id.Pos()), id.Name)
			}
		}
	}
}

// undocumented returns the exported names decl declares without a doc
// comment. Methods of unexported types are left out, as in the count.
func undocumented(decl ast.Decl) []*ast.Ident {
	var out []*ast.Ident
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if d.Name.IsExported() && d.Doc == nil && (d.Recv == nil || ast.IsExported(receiverType(d.Recv.List[0].Type))) {
			out = append(out, d.Name)
		}
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if s.Name.IsExported() && d.Doc == nil && s.Doc == nil {
					out = append(out, s.Name)
				}
			case *ast.ValueSpec:
				for _, n := range s.Names {
					if n.IsExported() && d.Doc == nil && s.Doc == nil && s.Comment == nil {
						out = append(out, n)
					}
				}
			}
		}
	}
	return out
}

// entryPoints are the calls a user starts from: each has a godoc Example
// (Example<Name> or Example<Type>_<Method>, with or without a suffix).
var entryPoints = []string{
	"NewGroup", "Map", "ForEach", "NewSupervisor", "Supervisor_Add", "Supervisor_StartService",
	"NewPool", "Main", "HTTPServer", "AwaitReady", "Restart", "Strategy", "DebugHandler",
	"LabelHandler", "NewGoroutineSampler", "Budget", "MaxTasks", "StopOnError", "HTTPService_UseListener",
}

// TestEntryPointsHaveExamples checks that each entry point has an Example.
func TestEntryPointsHaveExamples(t *testing.T) {
	names, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range names {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && strings.HasPrefix(fd.Name.Name, "Example") {
				have[strings.TrimPrefix(fd.Name.Name, "Example")] = true
			}
		}
	}
	for _, e := range entryPoints {
		found := have[e]
		for h := range have {
			// A suffix starts with a lower-case letter: ExampleNewPool_drain.
			if rest, ok := strings.CutPrefix(h, e+"_"); ok && rest != "" && rest[0] >= 'a' && rest[0] <= 'z' {
				found = true
			}
		}
		if !found {
			t.Errorf("entry point %s has no Example%s", e, e)
		}
	}
}
